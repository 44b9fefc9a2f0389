/**
 * The TS reference kernels against independent implementations of the same definitions: the
 * training side's models/anchorseg/preprocess.py (numpy), Pillow's own BILINEAR resize on float
 * images (the filter docs/bundle-format.md names), and known BT.601 limited-range colours.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { letterboxFor, type LetterboxMode } from '../sdk/kernels/index.js';
import * as reference from '../sdk/kernels/reference.js';
import { imageSpec, makeFrame, makeLogits } from './fixtures/kernels-frames.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const python = join(root, '.venv', 'bin', 'python');
const dir = await mkdtemp(join(tmpdir(), 'anchorseg-kernels-py-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

// Reads an rgb8 frame, writes preprocess.py's tensor and Pillow's per-channel F-mode resize
// (normalised and letterboxed the same way), and preprocess.py's mask for the given logits.
const SCRIPT = `
import sys, numpy as np
from PIL import Image
sys.path.insert(0, 'models')
from anchorseg.preprocess import to_input, logits_to_mask
d, w, h, W, H, lw, lh, mode = sys.argv[1], *map(int, sys.argv[2:8]), sys.argv[8]
rgb = np.fromfile(f'{d}/frame.bin', np.uint8).reshape(h, w, 3)
x, lb = to_input(rgb, W, H, letterbox=mode)
x.astype(np.float32).tofile(f'{d}/numpy.bin')
mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
out = np.zeros((3, H, W), np.float32)
for c in range(3):
    ch = Image.fromarray(rgb[..., c].astype(np.float32), mode='F').resize((lb.content_width, lb.content_height), Image.BILINEAR)
    out[c, :lb.content_height, :lb.content_width] = (np.asarray(ch, np.float32) / np.float32(255) - np.float32(mean[c])) / np.float32(std[c])
out.tofile(f'{d}/pillow.bin')
logits = np.fromfile(f'{d}/logits.bin', np.float32).reshape(lh, lw)
logits_to_mask(logits, lb, w, h, 0.0).astype(np.uint8).tofile(f'{d}/mask.bin')
`;

describe('TS reference vs numpy (preprocess.py) and Pillow', () => {
  it.each([
    [640, 480, 128, 128, 'bottom-right'],
    [333, 211, 128, 128, 'bottom-right'],
    [90, 700, 128, 128, 'bottom-right'],
    [16, 12, 128, 128, 'bottom-right'],
    [1280, 160, 96, 64, 'bottom-right'],
    [640, 480, 128, 128, 'none'],
    [1280, 160, 96, 64, 'none'],
  ] as [number, number, number, number, LetterboxMode][])('%ix%i -> %ix%i, letterbox %s', async (w, h, W, H, mode) => {
    const frame = makeFrame('rgb8', w, h, 0, 11);
    const [lw, lh] = [64, 48];
    const logits = makeLogits(lw, lh, 5);
    await writeFile(join(dir, 'frame.bin'), frame.data);
    await writeFile(join(dir, 'logits.bin'), new Uint8Array(logits.buffer));
    await run(python, ['-c', SCRIPT, dir, ...[w, h, W, H, lw, lh].map(String), mode], { cwd: root });
    const floats = async (f: string) => {
      const b = await readFile(join(dir, f));
      return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    };
    const ts = reference.frameToTensor(frame, imageSpec(W, H, { letterbox: mode })).data as Float32Array;
    for (const other of [await floats('numpy.bin'), await floats('pillow.bin')]) {
      expect(other).toHaveLength(ts.length);
      let worst = 0;
      for (let i = 0; i < ts.length; i++) worst = Math.max(worst, Math.abs(ts[i] - other[i]));
      expect(worst).toBeLessThanOrEqual(1e-5);
    }
    const { mask } = reference.logitsToMask(logits, lw, lh, letterboxFor(w, h, W, H, mode), w, h, 0);
    const pyMask = await readFile(join(dir, 'mask.bin'));
    expect(Buffer.from(mask.map((v) => (v ? 1 : 0))).equals(pyMask)).toBe(true);
  });
});

describe('BT.601 limited range', () => {
  // [Y, U, V] -> RGB, from the standard's matrix (studio swing 16..235 / 16..240).
  const colours: [string, [number, number, number], [number, number, number]][] = [
    ['white', [235, 128, 128], [255, 255, 255]],
    ['black', [16, 128, 128], [0, 0, 0]],
    ['grey', [126, 128, 128], [128, 128, 128]],
    ['red', [81, 90, 240], [255, 0, 0]],
    ['green', [145, 54, 34], [0, 255, 0]],
    ['blue', [41, 240, 110], [0, 0, 255]],
  ];
  it.each(colours)('%s', (_name, [y, u, v], rgb) => {
    const yuyv = { width: 2, height: 1, encoding: 'yuyv' as const, step: 4, data: Uint8Array.of(y, u, y, v) };
    const nv12 = { width: 2, height: 2, encoding: 'nv12' as const, step: 2, data: Uint8Array.of(y, y, y, y, u, v) };
    for (const frame of [yuyv, nv12]) {
      const out = reference.overlay(frame, new Uint8Array(frame.width * frame.height));
      for (let c = 0; c < 3; c++) expect(Math.abs(out[c] - rgb[c])).toBeLessThanOrEqual(1);
    }
  });
});
