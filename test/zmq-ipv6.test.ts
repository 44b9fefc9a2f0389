/**
 * `tcp://[::1]` endpoints, allowed as loopback, are served: every socket is bound with IPv6 on
 * (libzmq has it off by default and then cannot bind an IPv6 address). A pyzmq client and
 * AnchorSegClient each make a round trip over [::1]: goal, frame, the mask segment() gives.
 * Skipped, with the reason printed, where this machine has no IPv6 loopback.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Segmenter } from '../sdk/index.js';
import { AnchorSegClient, encodeFrame } from '../zmq/index.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { removeTemps, tempDir } from './fixtures/sdk-helpers.js';
import { openServer, peer } from './zmq/harness.js';

/** Why IPv6 loopback cannot be used here, or undefined when it can (a TCP listener on ::1). */
async function noIpv6Loopback(): Promise<string | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => resolve(`no IPv6 loopback on this machine (listening on [::1] failed: ${err.code ?? err.message})`));
    server.listen(0, '::1', () => server.close(() => resolve(undefined)));
  });
}

const skipReason = await noIpv6Loopback();
if (skipReason) console.warn(`test/zmq-ipv6.test.ts skipped: ${skipReason}`);

const IPV6 = { control: 'tcp://[::1]:*', results: 'tcp://[::1]:*', frames: 'tcp://[::1]:*' };
const GOAL = 'the red cup';

let seg: Segmenter;
beforeAll(async () => {
  if (!skipReason) seg = await Segmenter.open();
});
afterAll(async () => {
  await seg?.close();
  await removeTemps();
});

test.skipIf(skipReason)('a server on tcp://[::1] serves a pyzmq client and AnchorSegClient', async () => {
  const frame = { ...makeFrame('rgb8', 64, 48, 0, 21), frameId: 'v6-0', stamp: { sec: 1700000000, nanosec: 5 } };
  const direct = await seg.segment(frame, GOAL);
  const sha = createHash('sha256').update(direct.mask).digest('hex');

  await using server = await openServer(seg, { ...IPV6, reason: { every: 1 } });
  const { control, results, frames } = server.endpoints;
  for (const e of [control, results, frames]) expect(e).toMatch(/^tcp:\/\/\[::1\]:\d+$/);

  const dir = await tempDir('anchorseg-zmq-ipv6-');
  const [header, pixels] = encodeFrame(frame);
  await writeFile(path.join(dir, '0.raw'), pixels);
  await writeFile(path.join(dir, 'frames.json'), JSON.stringify([{ header: JSON.parse(header.toString()), file: '0.raw', goal: GOAL }]));
  const events = await peer('interop', server.endpoints, ['--frames-dir', dir]).done();
  const result = events.find((e) => e.event === 'result')!;
  expect({ frameId: result.frameId, goal: result.goal, stamp: result.stamp, maskSha256: result.maskSha256 }).toEqual({ frameId: 'v6-0', goal: GOAL, stamp: frame.stamp, maskSha256: sha });

  await using client = AnchorSegClient.connect({ control, results, frames: frames! });
  expect((await client.setGoal(GOAL)).goal).toBe(GOAL);
  const sub = client.results();
  await sub.ready();
  await client.sendFrame({ ...frame, frameId: 'v6-1' });
  for await (const r of sub) {
    expect([r.frameId, createHash('sha256').update(r.mask).digest('hex')]).toEqual(['v6-1', sha]);
    break;
  }
  expect(server.status().counters).toMatchObject({ received: 2, invalid: 0, results: 2, failures: 0 });
});
