/**
 * Bad input, table-driven: every case gets its coded error with a message that says what was
 * expected and what was received, and the same segmenter keeps working after each one.
 */
import { appendFile, copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMaskPng } from '../sdk/model/encoders.js';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { rleDecode } from '../sdk/kernels/index.js';
import { Segmenter } from '../sdk/segmenter.js';
import { imageFolder } from '../sdk/stream/sources.js';
import { copyBundle, expectCode, removeTemps, ROOT, tempDir } from './fixtures/sdk-helpers.js';

let seg: Segmenter;
const W = 64;
const H = 48;
const good = (): Frame => ({ width: W, height: H, encoding: 'rgb8', step: W * 3, data: new Uint8Array(W * H * 3).map((_, i) => (i * 31) % 256) });

beforeAll(async () => {
  seg = await Segmenter.open(undefined, { threads: 1 });
});
afterAll(async () => {
  await seg.close();
  await removeTemps();
});

type Case = [name: string, code: string, message: RegExp, run: () => unknown];

const cases: Case[] = [
  ['wrong step', 'ERR_FRAME_INVALID', /integer >= 192 \(width 64 x 3 bytes for rgb8\) for frame\.step but received 100 of type number/, () => seg.segment({ ...good(), step: 100 }, 'cup')],
  ['zero width', 'ERR_FRAME_INVALID', /integer between 1 and 16384 for frame\.width but received 0 of type number/, () => seg.segment({ ...good(), width: 0 }, 'cup')],
  ['negative height', 'ERR_FRAME_INVALID', /frame\.height but received -3 of type number/, () => seg.segment({ ...good(), height: -3 }, 'cup')],
  ['NaN width', 'ERR_FRAME_INVALID', /frame\.width but received NaN of type number/, () => seg.segment({ ...good(), width: Number.NaN }, 'cup')],
  ['truncated data', 'ERR_FRAME_INVALID', /at least 9216 bytes of data for a 64x48 rgb8 frame with step 192 but received 9000/, () => seg.segment({ ...good(), data: new Uint8Array(9000) }, 'cup')],
  ['unknown encoding', 'ERR_FRAME_INVALID', /one of rgb8, bgr8, .* for frame\.encoding but received "rgb16"/, () => seg.segment({ ...good(), encoding: 'rgb16' as never }, 'cup')],
  ['data that is not bytes', 'ERR_FRAME_INVALID', /Uint8Array or Buffer for frame\.data but received array of length 3/, () => seg.segment({ ...good(), data: [1, 2, 3] as never }, 'cup')],
  ['no frame', 'ERR_FRAME_INVALID', /object like sensor_msgs\/Image for frame but received undefined/, () => seg.segment(undefined as never, 'cup')],
  ['a bad stamp', 'ERR_FRAME_INVALID', /frame\.stamp/, () => seg.segment({ ...good(), stamp: { sec: 1.5, nanosec: 0 } }, 'cup')],
  [
    'stamp seconds past int32',
    'ERR_FRAME_INVALID',
    /integer between 0 and 2147483647 for frame\.stamp\.sec but received 2147483648/,
    () => seg.segment({ ...good(), stamp: { sec: 2 ** 31, nanosec: 0 } }, 'cup'),
  ],
  [
    'stamp nanoseconds of a whole second',
    'ERR_FRAME_INVALID',
    /integer between 0 and 999999999 for frame\.stamp\.nanosec but received 1000000000/,
    () => seg.segment({ ...good(), stamp: { sec: 1, nanosec: 1e9 } }, 'cup'),
  ],
  [
    'data that only looks like bytes',
    'ERR_FRAME_INVALID',
    /preprocessing can read but it failed with TypeError: /,
    () => seg.segment({ ...good(), data: new Proxy(new Uint8Array(W * H * 3), {}) }, 'cup'),
  ],
  ['odd-width yuyv', 'ERR_FRAME_INVALID', /even width for yuyv/, () => seg.segment({ width: 3, height: 2, encoding: 'yuyv', step: 6, data: new Uint8Array(12) }, 'cup')],
  ['non-string goal', 'ERR_GOAL_INVALID', /a string for goal but received 7 of type number/, () => seg.segment(good(), 7 as never)],
  ['empty goal', 'ERR_GOAL_EMPTY', /at least one letter or digit for goal but received " {3}"/, () => seg.segment(good(), '   ')],
  ['huge goal', 'ERR_GOAL_TOO_LONG', /at most 512 characters for goal but received 100000/, () => seg.segment(good(), 'cup '.repeat(25000))],
  ['too many words', 'ERR_GOAL_TOO_LONG', /at most 40 words for goal but received 41/, () => seg.segment(good(), 'cup '.repeat(41))],
  ['NaN threads', 'ERR_INVALID_ARG', /integer between 1 and 256 for options\.threads but received NaN of type number/, () => Segmenter.open(undefined, { threads: Number.NaN })],
  ['fractional threads', 'ERR_INVALID_ARG', /options\.threads but received 1\.5/, () => Segmenter.open(undefined, { threads: 1.5 })],
  ['a signal that is not an AbortSignal', 'ERR_INVALID_ARG', /an AbortSignal for options\.signal but received NaN/, () => seg.segment(good(), 'cup', { signal: Number.NaN as never })],
  ['an unknown option', 'ERR_INVALID_ARG', /unknown option "timeout"/, () => seg.segment(good(), 'cup', { timeout: 5 } as never)],
  ['options that are not an object', 'ERR_INVALID_ARG', /an object for options but received "fast"/, () => seg.segment(good(), 'cup', 'fast' as never)],
  ['a bundle path that is not a string', 'ERR_INVALID_ARG', /a path string or undefined for bundleDir but received 42/, () => Segmenter.open(42 as never)],
  ['a missing bundle', 'ERR_BUNDLE_NOT_FOUND', /nope\/anchorseg\.json/, () => Segmenter.open(path.join('/tmp', 'nope'))],
  ['a corrupt bundle', 'ERR_BUNDLE_HASH', /decoder\.onnx .* hashes to/, async () => Segmenter.open(await copyBundle(async (_m, d) => appendFile(path.join(d, 'decoder.onnx'), '\0')))],
  ['an unknown backend', 'ERR_BACKEND_UNAVAILABLE', /cuda: not registered/, () => Segmenter.open(undefined, { backend: 'cuda' })],
  ['a mask of the wrong size', 'ERR_INVALID_ARG', /Expected 12 bytes \(4x3\) for result\.mask but received 5/, () => encodeMaskPng({ mask: new Uint8Array(5), width: 4, height: 3 })],
  ['a broken RLE string', 'ERR_INVALID_ARG', /counts/, () => rleDecode({ size: [2, 2], counts: '\u00ff' })],
  ['an unreadable image file', 'ERR_FRAME_INVALID', /readable PNG or JPEG image at .*package\.json/, () => loadImage(path.join(ROOT, 'package.json'))],
];

describe('bad input', () => {
  it.each(cases)('%s -> %s, and the segmenter still works', async (_name, code, message, run) => {
    const err = await expectCode(run, code);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/\n/);
    const r = await seg.segment(good(), 'the red cup');
    expect(r.mask.length).toBe(W * H);
  });
});

describe('imageFolder: an undecodable file', () => {
  const folder = async () => {
    const dir = await tempDir();
    await copyFile(path.join(ROOT, 'models', 'data', 'reasonseg-synth', 'sequences', 'seq00', '0000.jpg'), path.join(dir, 'a.jpg'));
    await writeFile(path.join(dir, 'b.jpg'), 'not an image\n');
    await copyFile(path.join(ROOT, 'models', 'data', 'reasonseg-synth', 'sequences', 'seq00', '0001.jpg'), path.join(dir, 'c.jpg'));
    return dir;
  };
  const names = async (frames: AsyncIterable<Frame>) => {
    const out: string[] = [];
    for await (const f of frames) out.push(path.basename(f.frameId!));
    return out;
  };

  it('ends the source with ERR_FRAME_INVALID by default', async () => {
    const dir = await folder();
    const err = await expectCode(names(imageFolder(dir)), 'ERR_FRAME_INVALID');
    expect(err.message).toMatch(/b\.jpg/);
  });

  it('is reported to onUnreadable and skipped: the frames after it still come', async () => {
    const dir = await folder();
    const skipped: { code: string; message: string }[] = [];
    expect(await names(imageFolder(dir, { onUnreadable: (e) => skipped.push(e) }))).toEqual(['a.jpg', 'c.jpg']);
    expect(skipped).toHaveLength(1);
    expect(skipped[0].code).toBe('ERR_FRAME_INVALID');
    expect(skipped[0].message).toMatch(/b\.jpg/);
  });
});
