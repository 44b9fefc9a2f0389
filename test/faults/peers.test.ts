/**
 * Peers that die and come back, against `anchorseg serve` as a process: a pyzmq subscriber and a
 * pyzmq frame source are killed (SIGKILL, at seeded random points) and restarted, twice; the server
 * keeps serving, and every frame the restarted source sends reaches the restarted subscriber (with
 * --drop none nothing may be dropped). A server restart under one client is in
 * test/zmq-reconnect.test.ts; a subscriber too slow to read, in test/zmq-slow-subscriber.test.ts.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JsonProcess } from '../../bench/ros-processes.js';
import { PYTHON, ROOT } from '../fixtures/sdk-helpers.js';
import { Cli, CRASH, random, seedLine } from './harness.js';

const PEER = path.join(ROOT, 'test', 'faults', 'zmq_peer.py');
/** A bound on a broken server or peer, never a measurement. */
const WAIT_MS = 60_000;
const rnd = random('peers');

let server: Cli;
let endpoints: { control: string; results: string; frames: string };
beforeAll(async () => {
  console.log(seedLine('peers'));
  const any = 'tcp://127.0.0.1:*';
  server = new Cli(['serve', '--json', '--control-endpoint', any, '--results-endpoint', any, '--frames-endpoint', any, '--drop', 'none', '--goal', 'the red cup', '--threads', '1']);
  expect(await server.until(/"event":"listening"/), server.stderr).toBe(true);
  endpoints = JSON.parse(server.stdout.split('\n')[0]).endpoints;
});
afterAll(() => server?.kill('SIGKILL'));

const peer = (...args: string[]) => new JsonProcess(PYTHON, [PEER, ...args]);
const frameIds = (p: JsonProcess, prefix: string) =>
  p
    .all('result')
    .map((e) => e.frameId as string)
    .filter((id) => id.startsWith(prefix));

it('a subscriber and a frame source killed and restarted twice: no result lost after they reconnect; the server ends cleanly', async () => {
  for (let round = 0; round < 3; round++) {
    const prefix = `r${round}-`;
    const sub = peer('subscribe', '--results', endpoints.results);
    let source: JsonProcess | undefined;
    try {
      await sub.next('ready', WAIT_MS);
      // Started once the server acknowledged the subscription: results published before that are not the subscriber's.
      source = peer('push', '--frames', endpoints.frames, '--prefix', prefix, '--count', '12', '--interval-ms', '30');
      if (round < 2) {
        // Both die without a goodbye, after a random number of results (the source may be mid-send).
        const after = 1 + Math.floor(rnd() * 6);
        expect((await sub.collect('result', after, WAIT_MS)).length, `round ${round}: results before the kill`).toBeGreaterThanOrEqual(after);
        source.kill('SIGKILL');
        sub.kill('SIGKILL');
      } else {
        // The last pair, after two deaths: every frame sent since the subscriber was acknowledged arrives, in order.
        expect(await source.exited, source.stderr).toBe(0);
        const want = Array.from({ length: 12 }, (_, i) => `${prefix}${i}`);
        await sub.collect('result', 12, WAIT_MS);
        expect(frameIds(sub, prefix)).toEqual(want);
      }
    } finally {
      for (const p of [sub, source]) p?.kill('SIGKILL');
      await Promise.all([sub.exited, source?.exited]);
    }
  }
  server.kill('SIGTERM');
  const exit = await server.exit();
  expect(exit.status, server.stderr).toBe(143);
  expect(server.stderr).not.toMatch(CRASH);
  const closed = JSON.parse(server.stdout.trim().split('\n').at(-1)!);
  expect(closed).toMatchObject({ event: 'closed', signal: 'SIGTERM', counters: { invalid: 0, failures: 0, dropped: 0 } });
  expect(closed.counters.results).toBe(closed.counters.received);
});
