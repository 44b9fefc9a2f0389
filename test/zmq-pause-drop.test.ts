/**
 * Commands and drop accounting over real sockets: while paused, frames are dropped and counted
 * and nothing is published; after resume the next frame is segmented. A burst faster than the
 * model is latest-frame-wins: every received frame is either published or counted as dropped,
 * and the newest one is always segmented.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Segmenter } from '../sdk/index.js';
import { AnchorSegClient, type ZmqResult } from '../zmq/index.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { openServer, until } from './zmq/harness.js';

let seg: Segmenter;
beforeAll(async () => {
  seg = await Segmenter.open();
});
afterAll(async () => {
  await seg?.close();
});

const frame = (frameId: string) => ({ ...makeFrame('rgb8', 160, 120, 0, 3), frameId });

test('pause drops and counts frames without publishing; resume segments the next frame', async () => {
  await using server = await openServer(seg, { goal: 'the red cup' });
  const { control, results, frames } = server.endpoints;
  // Room for the three frames while the frames socket is still connecting.
  await using client = AnchorSegClient.connect({ control, results, frames: frames!, framesHighWaterMark: 4 });
  const sub = client.results();
  await sub.ready();
  const received: ZmqResult[] = [];
  const reading = (async () => {
    for await (const r of sub) received.push(r);
  })();

  expect(await client.pause()).toBe('paused');
  for (const id of ['p1', 'p2', 'p3']) expect(await client.sendFrame(frame(id))).toBe(true);
  await until(async () => (await client.status()).counters.received === 3);
  const paused = await client.status();
  expect({ state: paused.state, counters: paused.counters }).toMatchObject({
    state: 'paused',
    counters: { received: 3, invalid: 0, dropped: 3, results: 0, failures: 0 },
  });

  expect(await client.resume()).toBe('running');
  await client.sendFrame(frame('after-resume'));
  await until(() => received.length === 1);
  expect(received[0].frameId).toBe('after-resume');
  expect(received[0].dropped).toBe(3);
  sub.close();
  await reading;
});

test('a burst faster than the model: every frame is published or counted as dropped, the newest is segmented', async () => {
  await using server = await openServer(seg, { goal: 'the red cup' });
  const { control, results, frames } = server.endpoints;
  // A client queue as long as the burst, so that every frame reaches the server (which decides what to drop).
  await using client = AnchorSegClient.connect({ control, results, frames: frames!, framesHighWaterMark: 32 });
  const sub = client.results({ mode: 'rle' });
  await sub.ready();
  const ids: string[] = [];
  const reading = (async () => {
    for await (const r of sub) ids.push(r.frameId!);
  })();

  const burst = Array.from({ length: 20 }, (_, i) => `b${i}`);
  for (const id of burst) expect(await client.sendFrame(frame(id))).toBe(true);
  await until(() => ids.at(-1) === 'b19');
  const s = server.status();
  expect(s.counters.received).toBe(20);
  expect(s.counters.results + s.counters.dropped).toBe(20);
  expect(ids).toHaveLength(s.counters.results);
  // In order, without repeats: what was dropped is simply missing.
  expect(ids).toEqual(burst.filter((id) => ids.includes(id)));
  sub.close();
  await reading;
});
