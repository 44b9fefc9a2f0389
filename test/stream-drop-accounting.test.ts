/** Latest-frame-wins on the real bundle: drops are counted exactly, the newest frame wins, a slow consumer holds a bounded number of frames. */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import type { Segmenter } from '../sdk/segmenter.js';
import type { StreamResult } from '../sdk/stream/stream.js';
import { openStreamFixture } from './fixtures/stream-frames.js';

let seg: Segmenter;
let frames: Frame[];
let goal: string;

beforeAll(async () => {
  ({ seg, frames, goal } = await openStreamFixture(11));
});
afterAll(() => seg.close());

/**
 * Frame 0, then (once the consumer opens the gate) frames 1..10 back to back while the consumer
 * sits on result 0: the stream takes frame 1 for its one-frame lookahead, frames 2..9 are
 * overwritten in the intake by the next arrival, frame 10 is left for the stream.
 */
function burst(): { source: AsyncGenerator<Frame>; open: () => void; emitted: Promise<void> } {
  let open!: () => void;
  let done!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const emitted = new Promise<void>((r) => (done = r));
  async function* source(): AsyncGenerator<Frame> {
    yield frames[0];
    await gate;
    for (let i = 1; i < frames.length; i++) yield frames[i];
    done();
  }
  return { source: source(), open, emitted };
}

describe('drop accounting', () => {
  it("drop 'latest': frames arriving while the pipeline is busy are dropped, counted, and the newest wins", async () => {
    const { source, open, emitted } = burst();
    const s = seg.stream(source, { goal, reason: {} });
    const got: StreamResult[] = [];
    for await (const r of s) {
      got.push(r);
      if (got.length === 1) {
        open();
        await emitted;
      }
    }
    expect(got.map((r) => r.frameIndex)).toEqual([0, 1, 10]);
    expect(got.map((r) => r.dropped)).toEqual([0, 8, 8]);
    expect(got[2].frame).toBe(frames[10]);
    const st = s.stats();
    expect(st).toMatchObject({ state: 'closed', received: 11, results: 3, dropped: 8, invalid: 0, failures: 0, held: 0 });
  });

  it("drop 'none': the same burst is processed frame by frame, nothing dropped", async () => {
    const { source, open, emitted } = burst();
    const s = seg.stream(source, { goal, drop: 'none', reason: {} });
    const got: StreamResult[] = [];
    for await (const r of s) {
      got.push(r);
      if (got.length === 1) {
        open();
        // Pull mode reads the source only when the stream needs a frame: nothing is emitted meanwhile.
        await Promise.race([emitted, sleep(50)]);
      }
    }
    expect(got.map((r) => r.frameIndex)).toEqual([...frames.keys()]);
    expect(got.every((r) => r.dropped === 0)).toBe(true);
    expect(s.stats()).toMatchObject({ received: 11, results: 11, dropped: 0 });
  });
});

describe('a slow consumer', () => {
  for (const drop of ['latest', 'none'] as const) {
    it(`does not make the stream buffer without bound (drop '${drop}')`, async () => {
      let produced = 0;
      // An endless source that never waits: as fast as a source can be.
      function* endless(): Generator<Frame> {
        for (;;) yield frames[produced++ % frames.length];
      }
      const s = seg.stream(endless(), { goal, drop, reason: {} });
      const held: number[] = [];
      let n = 0;
      for await (const r of s) {
        expect(r.frameIndex).toBeGreaterThanOrEqual(n);
        await sleep(25); // the consumer is slower than the pipeline
        const st = s.stats();
        held.push(st.held);
        // Every frame read from the source is a result, a drop, or one of the few held.
        expect(st.received).toBe(st.results + st.dropped + st.held);
        if (++n === 8) break;
      }
      expect(Math.max(...held)).toBeLessThanOrEqual(3);
      if (drop === 'latest') {
        // The source ran far ahead; everything it produced beyond the held frames was dropped, not queued.
        expect(s.stats().dropped).toBeGreaterThan(8);
        expect(produced).toBeGreaterThan(s.stats().results + 3);
      } else {
        // Back-pressure: the source is read only as the stream needs frames.
        expect(produced).toBeLessThanOrEqual(s.stats().results + 3);
        expect(s.stats().dropped).toBe(0);
      }
      expect(s.stats().state).toBe('closed');
    });
  }
});
