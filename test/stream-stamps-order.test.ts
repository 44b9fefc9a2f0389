/** Results on the real bundle carry their own frame's stamp, frameId, index and goal, in source order, across a sequence boundary. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, Stamp } from '../sdk/base/frame.js';
import { Segmenter } from '../sdk/segmenter.js';
import { playSequences, type Sequence } from '../sdk/stream/sources.js';
import type { SegmentStream, StreamResult } from '../sdk/stream/stream.js';
import { sequences } from './fixtures/stream-frames.js';

let seg: Segmenter;
let seqs: Sequence[];

beforeAll(async () => {
  seg = await Segmenter.open(undefined, { threads: 1 });
  seqs = (await sequences()).slice(0, 2).map((s) => ({ ...s, frames: s.frames.slice(0, 6) }));
});
afterAll(() => seg.close());

const ns = (s: Stamp) => s.sec * 1e9 + s.nanosec;

describe('stamps and order', () => {
  it("drop 'none': every frame, in order, with its stamp, frameId and its sequence's goal exactly from the boundary frame on", async () => {
    const sent: Frame[] = [];
    let stream: SegmentStream | undefined;
    async function* source(): AsyncGenerator<Frame> {
      for await (const f of playSequences(seqs, { onSequence: (seq) => stream!.setGoal(seq.goal) })) {
        sent.push(f);
        yield f;
      }
    }
    stream = seg.stream(source(), { drop: 'none', reason: { every: 4 } });
    const got: StreamResult[] = [];
    for await (const r of stream) got.push(r);
    expect(got.map((r) => r.frameIndex)).toEqual([...Array(12).keys()]);
    for (const r of got) {
      expect(r.stamp).toEqual(sent[r.frameIndex].stamp);
      expect(r.frameId).toBe(seqs[r.frameIndex < 6 ? 0 : 1].frames[r.frameIndex % 6].file);
      expect(r.goalText).toBe(seqs[r.frameIndex < 6 ? 0 : 1].goal);
    }
    // One continuous clock: the second sequence starts one frame period after the first ended.
    const stamps = got.map((r) => ns(r.stamp!));
    expect(stamps.every((t, i) => i === 0 || t > stamps[i - 1])).toBe(true);
    expect(stamps[0]).toBe(0);
    expect(stamps[6]).toBeCloseTo((seqs[0].frames[5].stampMs + 1000 / seqs[0].fps) * 1e6, -3);
    expect(got[6].bank).toMatchObject({ reason: 'goal-change', ageFrames: 0 });
    expect(got[4].bank).toMatchObject({ reason: 'every', ageFrames: 0 });
    // Bank age by stamps: frames 1..3 are 1..3 frame periods after the bank's frame.
    expect(got[3].bank.ageMs).toBeCloseTo(seqs[0].frames[3].stampMs, 6);
  });

  it("drop 'latest' under a source faster than the pipeline: results still in order, each with its own frame's stamp", async () => {
    const frames: Frame[] = [];
    for await (const f of playSequences(seqs)) frames.push(f);
    const s = seg.stream(frames, { goal: seqs[0].goal, reason: {} });
    const got: StreamResult[] = [];
    for await (const r of s) got.push(r);
    expect(got.length).toBeGreaterThan(0);
    expect(got.at(-1)!.frameIndex).toBe(frames.length - 1); // the newest frame always wins
    for (let i = 0; i < got.length; i++) {
      const r = got[i];
      expect(r.frame).toBe(frames[r.frameIndex]);
      expect(r.stamp).toEqual(frames[r.frameIndex].stamp);
      if (i > 0) expect(r.frameIndex).toBeGreaterThan(got[i - 1].frameIndex);
    }
    expect(s.stats().dropped).toBe(frames.length - got.length);
  });
});
