/**
 * Reconnects: one AnchorSegClient outlives a server restart on the same endpoints (its commands,
 * frames and subscription resume without a new client), a command sent to no server times out
 * with ERR_TIMEOUT and the next one works, and a subscriber that leaves and comes back gets results again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Segmenter } from '../sdk/index.js';
import { AnchorSegClient, AnchorSegServer, type ServerEndpoints, type ZmqResult } from '../zmq/index.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { expectCode } from './fixtures/sdk-helpers.js';
import { openServer, until } from './zmq/harness.js';

let seg: Segmenter;
beforeAll(async () => {
  seg = await Segmenter.open();
});
afterAll(async () => {
  await seg?.close();
});

const frame = (frameId: string) => ({ ...makeFrame('rgb8', 80, 60, 0, 7), frameId });

/**
 * A command, again after ERR_TIMEOUT: a request written to a connection that is going down is
 * lost with it (REQ does not resend), and the client reports that as a timeout.
 */
async function retried<T>(command: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await command();
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_TIMEOUT') throw err;
    }
  }
}

/** A server on the endpoints a closed one had: its listening sockets are released in ZeroMQ's I/O thread, so the port may still be busy a moment. */
async function reopen(endpoints: ServerEndpoints, goal: string): Promise<AnchorSegServer> {
  for (;;) {
    try {
      return await AnchorSegServer.open(seg, { control: endpoints.control, results: endpoints.results, frames: endpoints.frames, goal });
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code !== 'EADDRINUSE') throw err;
      await sleep(20);
    }
  }
}

test('one client keeps its commands, frames and subscription across a server restart on the same endpoints', async () => {
  const first = await openServer(seg, { goal: 'the red cup' });
  const endpoints = first.endpoints;
  await using client = AnchorSegClient.connect({ control: endpoints.control, results: endpoints.results, frames: endpoints.frames!, timeoutMs: 1000 });
  const results = client.results();
  // A subscriber that keeps reading: ZeroMQ resubscribes after a reconnect when the socket is next used.
  const received: ZmqResult[] = [];
  const reading = (async () => {
    for await (const r of results) received.push(r);
  })();
  await results.ready();
  expect(await client.sendFrame(frame('before'))).toBe(true);
  await until(() => received.length === 1);
  await first.close();

  // Sent while the old server is gone: lost with its connection, or queued for the next server.
  const pending = client.status().catch((err: Error) => err);
  const second = await reopen(endpoints, 'the blue cup');
  try {
    const early = await pending;
    expect(early instanceof Error ? (early as Error & { code: string }).code : early.goal).toMatch(/^(ERR_TIMEOUT|the blue cup)$/);
    expect((await retried(() => client.status())).goal).toBe('the blue cup');
    // The subscription came back by itself: the new server acknowledged it.
    await until(() => results.stats().connects === 2);
    expect(second.status().subscribers['result.mask']).toBe(1);
    expect(await client.sendFrame(frame('after'))).toBe(true);
    await until(() => received.length === 2);
    expect(received.map((r) => [r.frameId, r.goal, r.seq])).toEqual([
      ['before', 'the red cup', 0],
      ['after', 'the blue cup', 0],
    ]);
    expect(results.stats()).toEqual({ received: 2, missed: 0, connects: 2 });
  } finally {
    results.close();
    await reading;
    await second.close();
  }
});

test('a command with no server times out with ERR_TIMEOUT; the next one, once a server is up, succeeds', async () => {
  // Bind to learn a free port, then close: nothing listens there until the server below.
  const probe = await openServer(seg);
  const endpoints = probe.endpoints;
  await probe.close();
  await using client = AnchorSegClient.connect({ control: endpoints.control, timeoutMs: 300 });
  const err = await expectCode(client.status(), 'ERR_TIMEOUT');
  expect(err.message).toBe(`Expected a reply to status from ${endpoints.control} within 300 ms but received none (is anchorseg serve running there?)`);
  await using server = await reopen(endpoints, 'the red cup');
  // The timed-out request may reach the new server first (relaxed REQ discards its late reply).
  expect((await retried(() => client.status())).state).toBe('running');
  expect(server.status().goal).toBe('the red cup');
});

test('a subscriber that leaves and subscribes again gets results again', async () => {
  await using server = await openServer(seg, { goal: 'the red cup' });
  const { control, results: res, frames } = server.endpoints;
  await using client = AnchorSegClient.connect({ control, results: res, frames: frames! });
  for (const round of [1, 2, 3]) {
    const results = client.results({ mode: 'rle' });
    await results.ready();
    expect(server.status().subscribers['result.rle']).toBe(1);
    await client.sendFrame(frame(`round-${round}`));
    for await (const r of results) {
      expect(r.frameId).toBe(`round-${round}`);
      expect(r.mask).toHaveLength(80 * 60);
      break; // leaving the loop closes the subscription
    }
    await until(() => server.status().subscribers['result.rle'] === 0);
  }
  expect(server.status().counters.results).toBe(3);
});
