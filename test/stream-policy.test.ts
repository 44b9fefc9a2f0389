/**
 * The dual-rate policy: every-N, after-T-ms and adaptive cadences on the real bundle, and the
 * adaptive rule's signals in isolation (fabricated image states and results, next to the real runs).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import type { SegmentResult } from '../sdk/model/result.js';
import type { ImageState } from '../sdk/segmenter.js';
import type { Segmenter } from '../sdk/segmenter.js';
import { ReasonPolicy, checkReasonOptions, peakContrast, type ReasonOptions } from '../sdk/stream/policy.js';
import type { StreamResult } from '../sdk/stream/stream.js';
import { openStreamFixture } from './fixtures/stream-frames.js';

let seg: Segmenter;
let frames: Frame[];
let goal: string;

beforeAll(async () => {
  ({ seg, frames, goal } = await openStreamFixture(13));
});
afterAll(() => seg.close());

async function run(reason: ReasonOptions, list = frames) {
  const s = seg.stream(list, { goal, drop: 'none', reason });
  const got: StreamResult[] = [];
  for await (const r of s) got.push(r);
  return { got, banks: s.stats().banksByReason };
}

describe('policy on the real bundle', () => {
  it('every N: a fresh bank every N frames, ages counting 0..N-1, reasoner time only on bank frames', async () => {
    const { got, banks } = await run({ every: 4 });
    expect(got.map((r) => r.bank.ageFrames)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0]);
    expect(banks).toEqual({ 'goal-change': 1, every: 3, 'after-ms': 0, adaptive: 0 });
    expect(got.map((r) => r.timings.reasoner > 0)).toEqual(got.map((r) => r.bank.ageFrames === 0));
  });

  it('every 1 is per-frame reasoning', async () => {
    const { got } = await run({ every: 1 }, frames.slice(0, 4));
    expect(got.map((r) => r.bank.id)).toEqual([1, 2, 3, 4]);
  });

  it('after T ms: a fresh bank once the bank is T old by frame stamps (15 fps: every 3rd frame for 200 ms)', async () => {
    const { got, banks } = await run({ afterMs: 200 });
    expect(got.map((r) => r.bank.ageFrames)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    expect(banks['after-ms']).toBe(4);
    expect(Math.max(...got.map((r) => r.bank.ageMs))).toBeLessThan(200);
  });

  it('adaptive with only its frame cap on: exactly every maxFrames', async () => {
    const { got, banks } = await run({ adaptive: { maxFrames: 5, scoreDrop: 1, peakDrop: 1, sceneChange: 2 } });
    expect(got.map((r) => r.bank.ageFrames)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2]);
    expect(banks.adaptive).toBe(2);
  });

  it('adaptive with a zero scene-change threshold remakes the bank whenever the camera image changes at all', async () => {
    const moving = await run({ adaptive: { sceneChange: 0, scoreDrop: 1, peakDrop: 1 } }, frames.slice(0, 5));
    expect(moving.banks.adaptive).toBe(4);
    // The same frame again and again: tokens identical, nothing to remake.
    const still = await run({ adaptive: { sceneChange: 0, scoreDrop: 1, peakDrop: 1 } }, Array(5).fill(frames[0]));
    expect(still.banks.adaptive).toBe(0);
  });

  it('no rule at all: one bank per goal', async () => {
    const { banks } = await run({});
    expect(banks).toEqual({ 'goal-change': 1, every: 0, 'after-ms': 0, adaptive: 0 });
  });
});

// Unit tests of the adaptive rule's logic: fabricated inputs isolate each signal.
const tokens = (values: number[][]): ImageState =>
  ({ tensors: new Map([['image_tokens', { dtype: 'float32', dims: [1, values.length, values[0].length], data: Float32Array.from(values.flat()) }]]) }) as unknown as ImageState;
const result = (score: number, map: number[]): SegmentResult => ({ score, tokenMap: { grid: 2, data: Float32Array.from(map) } }) as unknown as SegmentResult;
const sharp = [1, 0, 0, 0];
const use = (frames: number) => ({ frames, ageMs: 0 });

describe('adaptive rule (unit)', () => {
  const same = tokens([
    [1, 0],
    [0, 1],
  ]);

  it('a score drop beyond scoreDrop marks the bank stale for the next frame', () => {
    const p = new ReasonPolicy({ adaptive: { scoreDrop: 0.2, peakDrop: 1, sceneChange: 2 } });
    p.rebased(same);
    p.observe(result(0.9, sharp), true);
    expect(p.due(use(1), same)).toBeUndefined();
    p.observe(result(0.75, sharp), false); // within 0.2
    expect(p.due(use(2), same)).toBeUndefined();
    p.observe(result(0.6, sharp), false);
    expect(p.due(use(3), same)).toBe('adaptive');
    p.rebased(same); // a fresh bank clears it
    expect(p.due(use(0), same)).toBeUndefined();
  });

  it('a token map whose peak flattens marks the bank stale', () => {
    const p = new ReasonPolicy({ adaptive: { scoreDrop: 1, peakDrop: 0.3, sceneChange: 2 } });
    p.rebased(same);
    p.observe(result(0.9, sharp), true); // contrast 0.75
    p.observe(result(0.9, [1, 0.5, 0.5, 0]), false); // contrast 0.5 < 0.7 * 0.75
    expect(p.due(use(2), same)).toBe('adaptive');
  });

  it('image tokens moving beyond sceneChange remake the bank before decoding', () => {
    const p = new ReasonPolicy({ adaptive: { scoreDrop: 1, peakDrop: 1, sceneChange: 0.1 } });
    p.rebased(same);
    expect(
      p.due(
        use(1),
        tokens([
          [1, 0.1],
          [0.1, 1],
        ]),
      ),
    ).toBeUndefined(); // cosine 0.995
    expect(
      p.due(
        use(1),
        tokens([
          [0, 1],
          [0, 1],
        ]),
      ),
    ).toBe('adaptive'); // half the tokens turned 90 degrees
  });

  it('rules combine: every and afterMs fire on their own, reported by name', () => {
    const p = new ReasonPolicy({ every: 3, afterMs: 100 });
    expect(p.due({ frames: 3, ageMs: 0 }, same)).toBe('every');
    expect(p.due({ frames: 1, ageMs: 150 }, same)).toBe('after-ms');
    expect(p.due({ frames: 1, ageMs: 50 }, same)).toBeUndefined();
  });

  it('peakContrast: 1 for a lone peak over a flat floor, 0 for a flat map, scale-free', () => {
    expect(peakContrast(Float32Array.from([5, 0, 0, 0]))).toBeCloseTo(0.75);
    expect(peakContrast(Float32Array.from([50, 0, 0, 0]))).toBeCloseTo(0.75);
    expect(peakContrast(Float32Array.from([2, 2, 2, 2]))).toBe(0);
  });

  it('checkReasonOptions accepts every documented form', () => {
    for (const o of [{}, { every: 8 }, { afterMs: 250 }, { adaptive: true }, { adaptive: false }, { adaptive: { maxFrames: 10 } }, { every: 4, adaptive: { sceneChange: 0.2 } }]) {
      expect(checkReasonOptions(o)).toEqual(o);
    }
  });
});
