/**
 * Frames whose bytes live on a SharedArrayBuffer, and frames whose buffer is transferred away
 * right after segment() (issue 15, items 2 and 4), through the Segmenter and a SegmentStream.
 * A SharedArrayBuffer frame used to be a codeless "Invalid argument" that ended a whole stream;
 * it is now accepted (the native kernels read it in place). A bad frame in a stream is skipped
 * and counted. docs/robustness.md lists these.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import type { SegmentResult } from '../sdk/model/result.js';
import type { Segmenter } from '../sdk/segmenter.js';
import type { StreamResult } from '../sdk/stream/stream.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { BUNDLE } from './fixtures/sdk-helpers.js';
import { openStreamFixture } from './fixtures/stream-frames.js';

let seg: Segmenter;
let frames: Frame[];
let goal: string;

beforeAll(async () => {
  ({ seg, frames, goal } = await openStreamFixture(4, BUNDLE));
});
afterAll(() => seg.close());

function onShared(frame: Frame): Frame {
  const data = new Uint8Array(new SharedArrayBuffer(frame.data.byteLength));
  data.set(frame.data);
  return { ...frame, data };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function expectSameResult(a: SegmentResult, b: SegmentResult): void {
  expect(sameBytes(a.mask, b.mask)).toBe(true);
  expect([a.score, a.found, a.bbox, a.area, a.anchor]).toEqual([b.score, b.found, b.bbox, b.area, b.anchor]);
}

/** 1280x960: preprocessing runs on a libuv thread (past INLINE_MAX_PIXELS). */
const large = () => makeFrame('rgb8', 1280, 960, 0, 7);

describe('a frame on a SharedArrayBuffer', () => {
  it('segment(): the same result as the same bytes on an ArrayBuffer (camera size and large)', async () => {
    for (const frame of [frames[0], large()]) {
      const shared = onShared(frame);
      expect(shared.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expectSameResult(await seg.segment(shared, goal), await seg.segment(frame, goal));
    }
  });

  it('in a stream: segmented like any frame; a bad frame beside it is skipped and counted, the stream goes on', async () => {
    const detached = { ...frames[1], data: new Uint8Array(frames[1].data) };
    structuredClone(detached.data.buffer, { transfer: [detached.data.buffer] });
    const short = { ...frames[2], data: onShared(frames[2]).data.subarray(0, 100) };
    const source = [onShared(frames[0]), detached, onShared(large()), short, onShared(frames[3])];
    const s = seg.stream(source, { goal, drop: 'none' });
    const got: StreamResult[] = [];
    for await (const r of s) got.push(r);
    expect(got.map((r) => r.frameIndex)).toEqual([0, 2, 4]);
    expect(s.stats()).toMatchObject({ received: 5, results: 3, invalid: 2 });
    expect(s.stats().lastError).toMatch(/Expected at least \d+ bytes of data/);
  });
});

describe("a frame's buffer transferred away right after segment()", () => {
  it('large frame: the result is the one for the bytes at call time, no crash', async () => {
    const want = await seg.segment(large(), goal);
    const frame = large();
    const job = seg.segment(frame, goal);
    structuredClone(frame.data.buffer, { transfer: [frame.data.buffer as ArrayBuffer] });
    expect(frame.data.byteLength).toBe(0);
    expectSameResult(await job, want);
  });

  it('a frame detached before the call: ERR_FRAME_INVALID saying what was expected', async () => {
    const frame = large();
    structuredClone(frame.data.buffer, { transfer: [frame.data.buffer as ArrayBuffer] });
    await expect(seg.segment(frame, goal)).rejects.toMatchObject({ code: 'ERR_FRAME_INVALID', message: expect.stringMatching(/^Expected at least 3686400 bytes .* but received 0/) });
  });
});
