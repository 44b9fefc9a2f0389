/**
 * The full-size export path end to end: the exporter (models/anchorseg/fullsize) writes a tiny
 * random checkpoint of the real classes in the reference's format and exports it (fp16, external
 * data); the SDK opens and verifies that bundle, tokenizes the goal as the exporter does, and
 * `segment()` / `stream()` give PyTorch's token map and score for the same pixels.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../sdk/model/bundle.js';
import { frameToTensor, halfToFloat } from '../sdk/kernels/index.js';
import { Segmenter } from '../sdk/segmenter.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { CLI, python, removeTemps, tempDir } from './fixtures/sdk-helpers.js';

afterAll(removeTemps);

// PyTorch (float32) on the checkpoint's weights, fed the SDK's own preprocessed pixels.
const SCRIPT = String.raw`
import json, sys, numpy as np, torch, sentencepiece as spm
from pathlib import Path
from anchorseg.fullsize import prompt
from anchorseg.fullsize.checkpoint import load
from anchorseg.fullsize.export import DecoderEngine, ReasonerEngine, VisionEngine, prompt_ids
from anchorseg.fullsize.tiny import ARCH
d, goal = Path(sys.argv[1]), sys.argv[2]
m, specials = load(d / 'ck', ARCH)
sp = spm.SentencePieceProcessor(model_file=str(d / 'ck' / 'tokenizer.model'))
prefix, tail = prompt_ids(sp, specials, ARCH.latent_tokens, m.seg_id)
ids = prompt.encode(sp, prompt.goal_prompt(goal, ARCH.latent_tokens), specials)
px = lambda name, s: torch.from_numpy(np.fromfile(d / name, np.float32).reshape(1, 3, s, s))
with torch.no_grad():
    tokens, pmask, feats, valid = VisionEngine(m)(px('clip.bin', 336), px('sam.bin', 1024))
    bank, states, score = ReasonerEngine(m, prefix, tail)(tokens, pmask, torch.tensor([ids]), torch.ones(1, len(ids)))
    token_map, logits = DecoderEngine(m)(states, feats, bank, valid)
print(json.dumps({'ids': ids, 'score': float(score[0]), 'tokenMap': token_map.flatten().tolist()}))
`;

describe('full-size bundle (tiny random configs of the real classes) through the SDK', async () => {
  const dir = await tempDir('anchorseg-fullsize-');
  python(['-m', 'anchorseg.fullsize.tiny', path.join(dir, 'ck'), '--bundle', path.join(dir, 'bundle')]);
  const bundleDir = path.join(dir, 'bundle');
  const frame = makeFrame('rgb8', 160, 120, 0, 7);
  const goal = 'the thing I can pour water into';

  it('verifies the bundle: sentencepiece tokenizer, fp16 I/O, external data hashed, reasoner image states', async () => {
    const b = await loadBundle(bundleDir);
    expect(b.manifest.tokenizer.type).toBe('sentencepiece');
    expect(b.manifest.files.map((f) => f.path).sort()).toEqual(['decoder.onnx.data', 'reasoner.onnx.data', 'tokenizer.model', 'vision.onnx.data']);
    expect(b.manifest.engines.reasoner.inputs.find((i) => i.name === 'goal_ids')?.shape).toEqual([1, 'T']);
    expect(b.manifest.images.map((i) => [i.input, i.dtype])).toEqual([
      ['clip_pixels', 'float16'],
      ['sam_pixels', 'float16'],
    ]);
    expect(b.manifest.model).toMatchObject({ latentTokens: 7, grid: 24, imageStates: 'reasoner' });
  });

  it('refuses the bundle when an external-data file changes', async () => {
    const copy = await tempDir('anchorseg-fullsize-bad-');
    const b = await loadBundle(bundleDir);
    for (const f of ['anchorseg.json', 'tokenizer.model', ...Object.values(b.manifest.engines).map((e) => e.file), ...b.manifest.files.map((f) => f.path)]) {
      await writeFile(path.join(copy, f), await readFile(path.join(bundleDir, f)));
    }
    const data = await readFile(path.join(copy, 'decoder.onnx.data'));
    data[100] ^= 1;
    await writeFile(path.join(copy, 'decoder.onnx.data'), data);
    await expect(loadBundle(copy)).rejects.toMatchObject({ code: 'ERR_BUNDLE_HASH', message: expect.stringContaining('decoder.onnx.data') });
  });

  it("segment(): the exporter's prompt ids, PyTorch's token map and score", async () => {
    const b = await loadBundle(bundleDir);
    for (const [spec, file] of [
      [b.manifest.images[0], 'clip.bin'],
      [b.manifest.images[1], 'sam.bin'],
    ] as const) {
      const t = frameToTensor(frame, spec);
      const f32 = t.data instanceof Uint16Array ? Float32Array.from(t.data, halfToFloat) : t.data;
      await writeFile(path.join(dir, file), f32);
    }
    const py = JSON.parse(python(['-c', SCRIPT, dir, goal])) as { ids: number[]; score: number; tokenMap: number[] };
    await using seg = await Segmenter.open(bundleDir);
    const r = await seg.segment(frame, goal);
    expect(r.goal.ids).toEqual(py.ids);
    expect(r.tokenMap.grid).toBe(24);
    const worst = Math.max(...Array.from(r.tokenMap.data, (v, i) => Math.abs(v - py.tokenMap[i])));
    expect(worst).toBeLessThan(1e-2); // fp16 engines against float32 PyTorch
    expect(Math.abs(r.score - py.score)).toBeLessThan(5e-3);
    expect(r.found).toBe(r.score >= 0.5);
    expect(r.mask.length).toBe(160 * 120);
  });

  it('`anchorseg info` describes it: architecture, K, grid, tokenizer, sizes', () => {
    const info = JSON.parse(execFileSync(process.execPath, [CLI, 'info', '--bundle', bundleDir, '--json'], { encoding: 'utf8' })).bundle;
    expect(info.architecture).toMatch(/LLaVA-1\.5 .*\+ SAM/);
    expect(info).toMatchObject({ latentTokens: 7, grid: 24, tokenizer: 'sentencepiece' });
    expect(Object.keys(info.bytes.files)).toContain('reasoner.onnx.data');
    expect(info.bytes.total).toBeGreaterThan(1e6);
  });

  it('a bank reused on another frame is remade there: the reasoner image states are never stale', async () => {
    await using seg = await Segmenter.open(bundleDir);
    const [f1, f2] = [11, 12].map((s) => makeFrame('rgb8', 160, 120, 0, s));
    const bank = await seg.reason(await seg.encodeImage(f1), goal);
    const reused = await seg.decode(await seg.encodeImage(f2), bank);
    const fresh = await seg.segment(f2, goal);
    expect(reused.timings.reasoner).toBeGreaterThan(0);
    expect(Array.from(reused.tokenMap.data)).toEqual(Array.from(fresh.tokenMap.data));
    expect(reused.score).toBe(fresh.score);
    const own = await seg.segment(f1, goal);
    expect(Array.from(own.tokenMap.data)).not.toEqual(Array.from(fresh.tokenMap.data));
  });

  it('stream(): one result per frame, each as segment() gives it for that frame', async () => {
    await using seg = await Segmenter.open(bundleDir);
    const frames = [1, 2, 3, 4].map((s) => makeFrame('rgb8', 160, 120, 0, s));
    const results = [];
    for await (const r of seg.stream(frames, { goal, drop: 'none', reason: {} })) results.push(r);
    expect(results.map((r) => r.frameIndex)).toEqual([0, 1, 2, 3]);
    for (const [i, r] of results.entries()) {
      expect(r.timings.reasoner).toBeGreaterThan(0);
      expect(Array.from(r.tokenMap.data)).toEqual(Array.from((await seg.segment(frames[i], goal)).tokenMap.data));
    }
  });
});
