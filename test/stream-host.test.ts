/**
 * The stream host (what the ZeroMQ server, the ROS 2 node and the CLI share) on the real bundle:
 * goals, pause, invalid frames, latest frame wins, restart after a failure, a local source, the
 * counters and the result record.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnchorSegError } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { rleDecode } from '../sdk/kernels/index.js';
import type { Segmenter } from '../sdk/segmenter.js';
import { StreamHost, resultRecord, type HostHandlers } from '../sdk/stream/host.js';
import type { StreamCounters, StreamResult } from '../sdk/stream/stream.js';
import { expectCode } from './fixtures/sdk-helpers.js';
import { openStreamFixture } from './fixtures/stream-frames.js';

let seg: Segmenter;
let frames: Frame[];
let A: string;
let B: string;

beforeAll(async () => {
  ({ seg, frames, goal: A, otherGoal: B } = await openStreamFixture(10));
});
afterAll(() => seg.close());

/** Results as the host hands them over, awaitable one by one; `hold` keeps the host waiting on a result. */
class Results {
  readonly got: StreamResult[] = [];
  #waiters: (() => void)[] = [];
  hold: Promise<void> | undefined;

  readonly handlers: HostHandlers = {
    onResult: async (r) => {
      this.got.push(r);
      for (const w of this.#waiters.splice(0)) w();
      await this.hold;
    },
  };

  /** Resolves once `n` results have arrived in all. */
  async count(n: number): Promise<StreamResult[]> {
    while (this.got.length < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    return this.got;
  }
}

/** Every frame received is invalid, dropped or a result once nothing is in flight. */
function expectSettled(c: StreamCounters): void {
  expect(c.received).toBe(c.invalid + c.dropped + c.results);
}

describe('StreamHost', () => {
  it('drops frames until a goal is set, segments the frames pushed after, and switches goals with a fresh bank', async () => {
    await using host = new StreamHost({ reason: {} });
    const results = new Results();
    const run = host.run(seg, results.handlers);
    expect(host.state).toBe('waiting-for-goal');
    expect(host.push(frames[0])).toBeUndefined();
    expect(host.counters).toMatchObject({ received: 1, dropped: 1, results: 0 });

    expect(host.setGoal(A)).toMatchObject({ text: A });
    expect(host.state).toBe('running');
    host.push(frames[1]);
    const [r] = await results.count(1);
    expect(r).toMatchObject({ seq: 0, frameIndex: 1, goalText: A, dropped: 1, bank: { id: 1, ageFrames: 0, reason: 'goal-change' } });

    // The one result record: every field derived from the result, the mask as RLE.
    const rec = resultRecord(r);
    expect(Object.keys(rec)).toEqual([
      'seq',
      'frameIndex',
      'frameId',
      'stamp',
      'goal',
      'unknownWords',
      'width',
      'height',
      'score',
      'found',
      'notFoundReason',
      'bbox',
      'area',
      'anchor',
      'rle',
      'timings',
      'bank',
      'latencyMs',
      'dropped',
    ]);
    expect(rec).toMatchObject({
      seq: 0,
      frameIndex: 1,
      frameId: frames[1].frameId,
      stamp: frames[1].stamp,
      goal: A,
      unknownWords: [],
      width: r.width,
      height: r.height,
      score: r.score,
      area: r.area,
      dropped: 1,
    });
    expect(Buffer.from(rleDecode(rec.rle)).equals(Buffer.from(r.mask))).toBe(true);
    expect(JSON.parse(JSON.stringify(rec))).toEqual(rec);

    host.push(frames[2]);
    await results.count(2);
    expect(host.setGoal(B)).toMatchObject({ text: B });
    host.push(frames[3]);
    const got = await results.count(3);
    expect(got[1]).toMatchObject({ goalText: A, bank: { id: 1, ageFrames: 1 } });
    expect(got[2]).toMatchObject({ seq: 2, frameIndex: 3, goalText: B, bank: { id: 2, ageFrames: 0, reason: 'goal-change' } });
    expect(host.counters).toEqual({ received: 4, invalid: 0, dropped: 1, results: 3, failures: 0, banks: 2, banksByReason: { 'goal-change': 2, every: 0, 'after-ms': 0, adaptive: 0 } });

    // An unusable goal is refused with its code and the old one stays.
    await expectCode(() => host.setGoal('  ?! '), 'ERR_GOAL_EMPTY');
    expect(host.goal).toBe(B);
    await host.close();
    await run;
    expect(host.running).toBe(false);
    await expectCode(() => host.setGoal(A), 'ERR_DISPOSED');
    await expect(host.run(seg, results.handlers)).resolves.toBeUndefined(); // closed: nothing to run
  });

  it('pause drops and counts what is pushed meanwhile; invalid frames are counted and their errors returned', async () => {
    await using host = new StreamHost({ goal: A });
    const results = new Results();
    const run = host.run(seg, results.handlers);
    host.pause();
    expect(host.state).toBe('paused');
    host.push(frames[0]);
    host.push(frames[1]);
    expect(host.counters).toMatchObject({ received: 2, dropped: 2 });

    const short = host.push({ ...frames[2], data: frames[2].data.subarray(0, 100) });
    expect(short).toMatchObject({ code: 'ERR_FRAME_INVALID', message: expect.stringMatching(/Expected at least \d+ bytes of data/) });
    // A transport message that is no frame at all: the front end's decoder throws inside push().
    const garbage = host.push(() => {
      throw new AnchorSegError('ERR_PROTOCOL', 'Expected a frame message [header, pixels] of 2 parts but received 1');
    });
    expect(garbage).toMatchObject({ code: 'ERR_PROTOCOL' });
    expect(host.counters).toMatchObject({ received: 4, invalid: 2, dropped: 2, results: 0 });

    host.resume();
    host.push(frames[5]);
    const [r] = await results.count(1);
    expect(r).toMatchObject({ seq: 0, frameIndex: 4, dropped: 2 }); // the fifth frame received
    expectSettled(host.counters);
    await host.close();
    await run;
  });

  it('latest frame wins: frames pushed while the pipeline is busy replace the waiting one, counted as dropped', async () => {
    await using host = new StreamHost({ goal: A, reason: {} });
    const results = new Results();
    let release!: () => void;
    results.hold = new Promise<void>((resolve) => (release = resolve));
    const run = host.run(seg, results.handlers);
    host.push(frames[0]);
    await results.count(1); // the host waits on this result; the stream waits for its next frame
    host.push(frames[1]); // handed to the stream at once (its lookahead)
    host.push(frames[2]); // waits
    host.push(frames[3]); // replaces 2
    host.push(frames[4]); // replaces 3
    expect(host.counters).toMatchObject({ received: 5, dropped: 2 });
    release();
    const got = await results.count(3);
    expect(got.map((r) => r.frameIndex)).toEqual([0, 1, 4]);
    expect(got.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(got[2]).toMatchObject({ dropped: 2 });
    expect(got[2].frame).toBe(frames[4]);
    expectSettled(host.counters);
    await host.close();
    await run;
  });

  it('drop none: a producer that awaits space() before each push is held back instead of losing frames', async () => {
    await using host = new StreamHost({ goal: A, drop: 'none', paused: true, reason: {} });
    const results = new Results();
    let release!: () => void;
    results.hold = new Promise<void>((resolve) => (release = resolve));
    const run = host.run(seg, results.handlers);
    let room = false;
    const paused = host.space().then(() => (room = true));
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(room).toBe(false); // paused: the producer waits (its frames back up in its transport)
    host.resume();
    await paused;
    host.push(frames[0]);
    await results.count(1); // the host waits on this result
    await host.space();
    host.push(frames[1]); // the stream's lookahead
    await host.space();
    host.push(frames[2]); // waits its turn
    room = false;
    const full = host.space().then(() => (room = true));
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(room).toBe(false);
    release();
    await full;
    const got = await results.count(3);
    expect(got.map((r) => r.frameIndex)).toEqual([0, 1, 2]);
    expect(host.counters).toMatchObject({ received: 3, dropped: 0, results: 3 });
    await host.close();
    await host.space(); // closed: nobody waits
    await run;
  });

  it('restarts the stream after a failure (restartMs) and keeps counting across streams; without restartMs run() rejects', async () => {
    const failures: unknown[] = [];
    await using host = new StreamHost({ goal: A, restartMs: 0 });
    const results = new Results();
    let first = true;
    const run = host.run(seg, {
      onResult: (r) => {
        results.handlers.onResult(r);
        if (first) {
          first = false;
          throw new Error('the transport failed');
        }
      },
      onFailure: (err) => failures.push(err),
    });
    host.push(frames[0]);
    await results.count(1);
    while (failures.length === 0) await nextTurn();
    expect((failures[0] as Error).message).toBe('the transport failed');
    expect(host.running).toBe(true);
    host.push(frames[1]);
    const got = await results.count(2);
    expect(got[1]).toMatchObject({ seq: 1, frameIndex: 1, goalText: A, bank: { id: 1, reason: 'goal-change' } }); // a new stream: a new bank
    expect(host.counters).toMatchObject({ received: 2, invalid: 0, dropped: 0, results: 2, failures: 1, banks: 2 });
    await host.close();
    await run;

    await using once = new StreamHost({ goal: A });
    const failing = once.run(seg, {
      onResult: () => {
        throw new Error('boom');
      },
    });
    once.push(frames[0]);
    await expect(failing).rejects.toThrow('boom');
    expect(once.running).toBe(false);
    expect(once.counters).toMatchObject({ results: 1, failures: 1 });
  });

  it('reads a local source only while it segments, every frame with drop none, and ends with it', async () => {
    let read = 0;
    async function* source(): AsyncGenerator<Frame> {
      for (const f of frames.slice(0, 6)) {
        read++;
        yield f;
      }
    }
    await using host = new StreamHost({ goal: A, paused: true, drop: 'none', source: source() });
    const results = new Results();
    const run = host.run(seg, results.handlers);
    for (let i = 0; i < 20; i++) await nextTurn();
    expect(read).toBe(0); // paused: nothing read
    host.resume();
    await run; // the source ran out
    expect(results.got.map((r) => r.frameIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(host.state).toBe('source-ended');
    expect(host.counters).toMatchObject({ received: 6, invalid: 0, dropped: 0, results: 6, failures: 0 });
  });

  it('one run at a time, and one open stream per Segmenter', async () => {
    await using host = new StreamHost({ goal: A });
    const run = host.run(seg, new Results().handlers);
    await expectCode(() => host.run(seg, new Results().handlers), 'ERR_BUSY');
    await using other = new StreamHost({ goal: A });
    await expectCode(() => other.run(seg, new Results().handlers), 'ERR_BUSY');
    await host.stop();
    await run;
    // Stopped: frames are dropped; the host runs again on request, its counters going on.
    host.push(frames[0]);
    expect(host.counters).toMatchObject({ received: 1, dropped: 1 });
    const results = new Results();
    const again = host.run(seg, results.handlers);
    host.push(frames[1]);
    expect((await results.count(1))[0]).toMatchObject({ seq: 0, frameIndex: 1, dropped: 1 });
    await host.close();
    await again;
    await expectCode(() => new StreamHost({ drop: 'oldest' as never }), 'ERR_INVALID_ARG');
  });
});
