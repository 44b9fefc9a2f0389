/** Ending a stream on the real bundle: close(), an AbortSignal, leaving the loop and Segmenter.close() all end the iteration cleanly and release the source. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import { Segmenter } from '../sdk/segmenter.js';
import type { DropMode } from '../sdk/stream/intake.js';
import type { StreamResult } from '../sdk/stream/stream.js';
import { expectCode } from './fixtures/sdk-helpers.js';
import { openStreamFixture } from './fixtures/stream-frames.js';

let seg: Segmenter;
let frames: Frame[];
let goal: string;

beforeAll(async () => {
  ({ seg, frames, goal } = await openStreamFixture(8));
});
afterAll(() => seg.close());

/** A live source that delivers one frame and then nothing (a camera gone quiet); records return(). */
function stalled(): { source: AsyncIterable<Frame>; returned: () => boolean } {
  let returned = false;
  let sent = false;
  const iterator: AsyncIterator<Frame> = {
    next: () => {
      if (sent) return new Promise(() => undefined);
      sent = true;
      return Promise.resolve({ done: false, value: frames[0] });
    },
    return: async () => {
      returned = true;
      return { done: true, value: undefined };
    },
  };
  return { source: { [Symbol.asyncIterator]: () => iterator }, returned: () => returned };
}

/** Iterates in the background; `first` resolves with the first result. */
function consume(s: AsyncIterable<StreamResult>): { done: Promise<StreamResult[]>; first: Promise<void> } {
  let first!: () => void;
  const firstSeen = new Promise<void>((r) => (first = r));
  const done = (async () => {
    const got: StreamResult[] = [];
    for await (const r of s) {
      got.push(r);
      first();
    }
    return got;
  })();
  return { done, first: firstSeen };
}

describe('close() and abort', () => {
  for (const drop of ['latest', 'none'] as DropMode[]) {
    it(`close() ends an iteration parked on a quiet source and releases the source (drop '${drop}')`, async () => {
      const { source, returned } = stalled();
      const s = seg.stream(source, { goal, drop });
      const c = consume(s);
      await c.first;
      await s.close();
      expect(await c.done).toHaveLength(1); // ended cleanly: no error
      expect(returned()).toBe(true);
      expect(s.stats().state).toBe('closed');
      await s.close(); // idempotent
    });
  }

  it('an AbortSignal ends the iteration cleanly after the result in hand', async () => {
    const controller = new AbortController();
    const s = seg.stream(frames, { goal, drop: 'none', signal: controller.signal });
    const got: StreamResult[] = [];
    for await (const r of s) {
      got.push(r);
      if (got.length === 3) controller.abort();
    }
    expect(got).toHaveLength(3);
    expect(s.closed).toBe(true);
  });

  it('an AbortSignal also ends an iteration parked on a quiet source', async () => {
    const controller = new AbortController();
    const { source, returned } = stalled();
    const c = consume(seg.stream(source, { goal, signal: controller.signal }));
    await c.first;
    controller.abort();
    expect(await c.done).toHaveLength(1);
    expect(returned()).toBe(true);
  });

  it('an already aborted signal: no results, no error', async () => {
    const s = seg.stream(frames, { goal, signal: AbortSignal.abort() });
    const got: StreamResult[] = [];
    for await (const r of s) got.push(r);
    expect(got).toHaveLength(0);
  });

  it('leaving the loop closes the stream: the segmenter takes a new stream and segment() still works', async () => {
    const s = seg.stream(frames, { goal, drop: 'none' });
    for await (const r of s) {
      expect(r.frameIndex).toBe(0);
      break;
    }
    expect(s.closed).toBe(true);
    const again: StreamResult[] = [];
    for await (const r of s) again.push(r); // a closed stream yields nothing
    expect(again).toHaveLength(0);
    const next = seg.stream(frames.slice(0, 2), { goal, drop: 'none' });
    let n = 0;
    for await (const _ of next) n++;
    expect(n).toBe(2);
    expect((await seg.segment(frames[0], goal)).mask.length).toBe(frames[0].width * frames[0].height);
  });

  it('Segmenter.close() ends its open stream cleanly; the closed segmenter refuses new streams', async () => {
    const own = await Segmenter.open(undefined, { threads: 1 });
    const { source, returned } = stalled();
    const c = consume(own.stream(source, { goal }));
    await c.first;
    await own.close();
    expect(await c.done).toHaveLength(1);
    expect(returned()).toBe(true);
    await expectCode(() => own.stream(frames, { goal }), 'ERR_DISPOSED');
  });
});
