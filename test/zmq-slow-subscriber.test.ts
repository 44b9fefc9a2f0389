/**
 * A subscriber that stops reading must not slow the server or make it hold more results: ZeroMQ
 * queues at most the high-water marks (plus what the kernel's socket buffers hold) for it and
 * drops the rest of its copies, while the server segments every frame and a reading subscriber
 * gets every result.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Segmenter, type Frame } from '../sdk/index.js';
import { AnchorSegClient, type ZmqResult } from '../zmq/index.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { openServer, peer } from './zmq/harness.js';

const N = 100;
const WIDTH = 640;
const HEIGHT = 480;
const SERVER_HWM = 4;
const SLOW_HWM = 2;
const SLOW_RCVBUF = 64 << 10;

let seg: Segmenter;
beforeAll(async () => {
  seg = await Segmenter.open();
});
afterAll(async () => {
  await seg?.close();
});

/** N camera-sized frames, made as they are read (4 distinct images, so memory stays small). */
function* frames(): Generator<Frame> {
  const images = [1, 2, 3, 4].map((seed) => makeFrame('rgb8', WIDTH, HEIGHT, 0, seed));
  for (let i = 0; i < N; i++) yield { ...images[i % 4], frameId: `f${i}` };
}

test('a subscriber that stops reading loses its own results at the high-water mark; the server and a reading subscriber go on', async () => {
  await using server = await openServer(seg, { frames: null, source: frames(), drop: 'none', goal: 'the red cup', paused: true, highWaterMark: SERVER_HWM });
  await using client = AnchorSegClient.connect({ control: server.endpoints.control, results: server.endpoints.results });
  const fast = client.results({ highWaterMark: 1000 });
  const slow = peer('slow', server.endpoints, ['--rcvhwm', String(SLOW_HWM), '--rcvbuf', String(SLOW_RCVBUF)]);
  try {
    await Promise.all([fast.ready(), slow.next('ready')]);
    expect((await client.status()).subscribers['result.mask']).toBe(2);
    expect(await client.resume()).toBe('running');

    const seen: number[] = [];
    for await (const r of fast as AsyncIterable<ZmqResult>) {
      seen.push(r.seq);
      if (seen.length === N) break;
    }
    // Every frame was segmented and published while the slow subscriber read nothing.
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(fast.stats()).toMatchObject({ received: N, missed: 0 });
    const status = server.status();
    expect(status.counters).toMatchObject({ received: N, invalid: 0, dropped: 0, results: N, failures: 0 });

    slow.write('go');
    const { seqs } = await slow.next('drained');
    await slow.done();
    // What was queued for it: the first results, in order, up to the bound; ZeroMQ dropped every later copy.
    const maskMessage = WIDTH * HEIGHT;
    const kernelBytes = Number(readFileSync('/proc/sys/net/ipv4/tcp_wmem', 'utf8').trim().split(/\s+/)[2]) + 2 * SLOW_RCVBUF;
    const bound = SERVER_HWM + SLOW_HWM + Math.ceil(kernelBytes / maskMessage) + 2;
    expect(seqs.length).toBeGreaterThan(0);
    expect(seqs.length).toBeLessThanOrEqual(bound);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    expect(bound).toBeLessThan(N / 2); // the check has teeth: an unbounded queue would deliver all N
  } finally {
    slow.kill();
  }
});
