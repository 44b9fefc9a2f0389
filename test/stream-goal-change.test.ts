/** setGoal() mid-stream on the real bundle: the new goal takes effect within one reasoner run; goals wait, stand, and refuse bad text. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import type { Segmenter } from '../sdk/segmenter.js';
import type { StreamResult } from '../sdk/stream/stream.js';
import { expectCode } from './fixtures/sdk-helpers.js';
import { openStreamFixture } from './fixtures/stream-frames.js';

let seg: Segmenter;
let frames: Frame[];
let A: string;
let B: string;

beforeAll(async () => {
  ({ seg, frames, goal: A, otherGoal: B } = await openStreamFixture(14));
});
afterAll(() => seg.close());

async function collect(s: AsyncIterable<StreamResult>, onResult?: (r: StreamResult, n: number) => void): Promise<StreamResult[]> {
  const out: StreamResult[] = [];
  for await (const r of s) {
    out.push(r);
    onResult?.(r, out.length);
  }
  return out;
}

describe('goal changes', () => {
  // First in the file: the segmenter has no standing goal yet.
  it('frames that arrive before any goal are skipped (counted as dropped) and the first goal starts the stream', async () => {
    let stream: ReturnType<Segmenter['stream']> | undefined;
    async function* source(): AsyncGenerator<Frame> {
      for (let i = 0; i < 6; i++) {
        if (i === 3) stream!.setGoal(A);
        yield frames[i];
      }
    }
    stream = seg.stream(source(), { drop: 'none' });
    expect(stream.goal).toBeUndefined();
    const got = await collect(stream);
    expect(got.map((r) => r.frameIndex)).toEqual([3, 4, 5]);
    expect(stream.stats()).toMatchObject({ dropped: 3, results: 3, received: 6 });
    expect(got[0].bank).toMatchObject({ reason: 'goal-change', ageFrames: 0 });
  });

  it('setGoal() mid-stream: the next frame to arrive gets a fresh bank for the new goal, the frame already in flight keeps the old one', async () => {
    const s = seg.stream(frames, { goal: A, drop: 'none', reason: {} }); // no policy: banks only on goal changes
    const got = await collect(s, (_r, n) => n === 5 && s.setGoal(B));
    const firstB = got.findIndex((r) => r.goalText === B);
    // Frame 5 had already arrived (the stream's one-frame lookahead) when setGoal ran after result 4.
    expect(firstB).toBe(6);
    const r = got[firstB];
    expect(r.bank).toMatchObject({ reason: 'goal-change', ageFrames: 0 });
    expect(r.goal.text).toBe(B);
    expect(r.timings.reasoner).toBeGreaterThan(0); // the reasoner ran on this very frame
    expect(got.slice(0, firstB).every((x) => x.goalText === A && x.bank.id === 1)).toBe(true);
    expect(got.slice(firstB).every((x) => x.goalText === B && x.bank.id === r.bank.id && x.goal.text === B)).toBe(true);
    expect(got.slice(firstB + 1).every((x) => x.timings.reasoner === 0)).toBe(true);
    expect(s.stats().banksByReason).toEqual({ 'goal-change': 2, every: 0, 'after-ms': 0, adaptive: 0 });
    expect(s.stats().banks).toBe(2);
  });

  it('setGoal() with the current text forces a fresh bank', async () => {
    const s = seg.stream(frames.slice(0, 6), { goal: A, drop: 'none', reason: {} });
    const got = await collect(s, (_r, n) => n === 1 && s.setGoal(A));
    expect(got.map((r) => r.bank.id)).toEqual([1, 1, 2, 2, 2, 2]);
    expect(got[2].bank.reason).toBe('goal-change');
  });

  it('an unusable goal is refused with a code and the stream keeps its goal', async () => {
    const s = seg.stream(frames.slice(0, 5), { goal: A, drop: 'none', reason: {} });
    const errors: string[] = [];
    const got = await collect(s, (_r, n) => {
      if (n !== 2) return;
      for (const bad of ['  ?! ', 'x'.repeat(10_000)]) {
        try {
          s.setGoal(bad);
        } catch (err) {
          errors.push((err as { code: string }).code);
        }
      }
    });
    expect(errors).toEqual(['ERR_GOAL_EMPTY', 'ERR_GOAL_TOO_LONG']);
    expect(got.every((r) => r.goalText === A)).toBe(true);
    expect(s.stats().banksByReason['goal-change']).toBe(1);
  });

  it('Segmenter.setGoal() sets the open stream’s goal and the goal of streams opened later without one', async () => {
    seg.setGoal(A);
    const s = seg.stream(frames.slice(0, 6), { drop: 'none', reason: {} });
    expect(s.goal).toBe(A);
    const got = await collect(s, (_r, n) => n === 1 && seg.setGoal(B));
    expect(got[0].goalText).toBe(A);
    expect(got.at(-1)!.goalText).toBe(B);
    const next = seg.stream(frames.slice(0, 1), { drop: 'none' });
    expect(next.goal).toBe(B);
    await next.close();
    await expectCode(() => seg.setGoal(''), 'ERR_GOAL_EMPTY');
  });
});
