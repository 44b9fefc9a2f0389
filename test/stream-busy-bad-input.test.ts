/**
 * One consumer per stream and one open stream per segmenter (ERR_BUSY); bad options, sources and
 * frames get coded errors, and a bad frame (one that fails validation or preprocessing in any way)
 * does not stop a stream, while an engine failure does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import type { Segmenter } from '../sdk/segmenter.js';
import { AnchorSegError } from '../sdk/base/errors.js';
import { SegmentStream, type StreamResult, type StreamSegmenter } from '../sdk/stream/stream.js';
import { expectCode } from './fixtures/sdk-helpers.js';
import { openStreamFixture } from './fixtures/stream-frames.js';

let seg: Segmenter;
let frames: Frame[];
let goal: string;

beforeAll(async () => {
  ({ seg, frames, goal } = await openStreamFixture(6));
});
afterAll(() => seg.close());

describe('one consumer', () => {
  it('a second consumer of a stream is refused with ERR_BUSY while the first iterates, and the first goes on', async () => {
    const s = seg.stream(frames, { goal, drop: 'none' });
    const got: StreamResult[] = [];
    for await (const r of s) {
      got.push(r);
      if (got.length === 1) {
        const err = await expectCode(async () => {
          for await (const _ of s) break;
        }, 'ERR_BUSY');
        expect(err.message).toMatch(/one consumer/);
      }
    }
    expect(got).toHaveLength(frames.length);
  });

  it('a second open stream on one segmenter is refused with ERR_BUSY until the first is closed', async () => {
    const first = seg.stream(frames, { goal });
    await expectCode(() => seg.stream(frames, { goal }), 'ERR_BUSY');
    await first.close();
    const second = seg.stream(frames, { goal });
    await second.close();
  });
});

describe('bad input', () => {
  it('bad options and sources get coded errors that say what was expected', async () => {
    const cases: [() => unknown, string, RegExp][] = [
      [() => seg.stream(42 as never, { goal }), 'ERR_INVALID_ARG', /iterable or async iterable of frames for source but received 42 of type number/],
      [() => seg.stream('frames' as never, { goal }), 'ERR_INVALID_ARG', /for source/],
      [() => seg.stream(frames, { goal, drop: 'oldest' as never }), 'ERR_INVALID_ARG', /one of latest, none for options.drop/],
      [() => seg.stream(frames, { goal, reason: { every: 0 } }), 'ERR_INVALID_ARG', /integer >= 1 for options.reason.every but received 0/],
      [() => seg.stream(frames, { goal, reason: { afterMs: -5 } }), 'ERR_INVALID_ARG', /number > 0 for options.reason.afterMs/],
      [() => seg.stream(frames, { goal, reason: { adaptive: { scoreDrop: 2 } } }), 'ERR_INVALID_ARG', /between 0 and 1 for options.reason.adaptive.scoreDrop/],
      [() => seg.stream(frames, { goal, reason: { adaptive: { sceneChnage: 0.1 } as never } }), 'ERR_INVALID_ARG', /unknown key "sceneChnage"/],
      [() => seg.stream(frames, { goal, speed: 2 } as never), 'ERR_INVALID_ARG', /unknown key "speed"/],
      [() => seg.stream(frames, { goal, signal: 'stop' as never }), 'ERR_INVALID_ARG', /AbortSignal for options.signal/],
      [() => seg.stream(frames, { goal: '' }), 'ERR_GOAL_EMPTY', /at least one letter or digit/],
    ];
    for (const [call, code, message] of cases) {
      const err = await expectCode(call, code);
      expect(err.message).toMatch(message);
    }
    // None of the refused streams is left open.
    await seg.stream(frames, { goal }).close();
  });

  it('a bad frame is skipped and counted; the frames around it are segmented', async () => {
    const bad = { ...frames[1], data: frames[1].data.subarray(0, 100) };
    const s = seg.stream([frames[0], bad, frames[2]], { goal, drop: 'none' });
    const got: StreamResult[] = [];
    for await (const r of s) got.push(r);
    expect(got.map((r) => r.frameIndex)).toEqual([0, 2]);
    expect(s.stats()).toMatchObject({ invalid: 1, results: 2, received: 3 });
    expect(s.stats().lastError).toMatch(/Expected at least \d+ bytes of data/);
  });

  it('a frame whose preprocessing throws a codeless error (data that only looks like a Uint8Array) is a bad frame, not the end of the stream', async () => {
    // Both pass `instanceof Uint8Array`; reading their length throws a TypeError (it used to end the stream).
    const proxied = { ...frames[1], data: new Proxy(frames[1].data, {}) };
    const hollow = { ...frames[3], data: Object.create(Uint8Array.prototype) as Uint8Array };
    const s = seg.stream([frames[0], proxied, frames[2], hollow, frames[4]], { goal, drop: 'none' });
    const got: StreamResult[] = [];
    for await (const r of s) got.push(r);
    expect(got.map((r) => r.frameIndex)).toEqual([0, 2, 4]);
    expect(s.stats()).toMatchObject({ invalid: 2, results: 3, received: 5, failures: 0 });
    expect(s.stats().lastError).toMatch(/^Expected a frame the preprocessing can read but it failed with TypeError: /);
    // segment() refuses the same frame with the same code.
    const err = await expectCode(seg.segment(proxied, goal), 'ERR_FRAME_INVALID');
    expect((err as Error & { cause?: unknown }).cause).toBeInstanceOf(TypeError);
  });

  it('an engine failure still ends the stream (a failure, not a bad frame)', async () => {
    // A stand-in for the vision worker dying on frame 1: the real segmenter otherwise.
    const dying: StreamSegmenter = {
      tokenize: (text) => seg.tokenize(text),
      encodeImage: (frame, options) => (frame === frames[1] ? Promise.reject(new AnchorSegError('ERR_INFERENCE', 'vision: worker exited (code 1)')) : seg.encodeImage(frame, options)),
      reason: (image, g, options) => seg.reason(image, g, options),
      decode: (image, bank, options) => seg.decode(image, bank, options),
    };
    const s = new SegmentStream(dying, frames.slice(0, 3), { goal, drop: 'none' }, undefined);
    const got: StreamResult[] = [];
    await expectCode(async () => {
      for await (const r of s) got.push(r);
    }, 'ERR_INFERENCE');
    expect(got.map((r) => r.frameIndex)).toEqual([0]);
    expect(s.stats()).toMatchObject({ invalid: 0, failures: 1, lastError: 'vision: worker exited (code 1)' });
  });

  it('a source that throws ends the iteration with its error', async () => {
    async function* failing(): AsyncGenerator<Frame> {
      yield frames[0];
      throw new Error('camera unplugged');
    }
    for (const drop of ['latest', 'none'] as const) {
      const got: StreamResult[] = [];
      await expect(
        (async () => {
          for await (const r of seg.stream(failing(), { goal, drop })) got.push(r);
        })(),
      ).rejects.toThrow('camera unplugged');
      expect(got.length).toBeLessThanOrEqual(1);
    }
  });
});
