/**
 * Who may connect: endpoints beyond loopback are refused unless CURVE keys are given; with CURVE,
 * a client whose public key is on the list gets in (pyzmq and AnchorSegClient alike), a stranger
 * and a plain-text client get nothing, and the server counts the refusals.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { curveKeyPair } from 'zeromq';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Segmenter } from '../sdk/index.js';
import { AnchorSegClient, AnchorSegServer, curvePublicKey, isLocalEndpoint } from '../zmq/index.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { PYTHON, expectCode } from './fixtures/sdk-helpers.js';
import { openServer, peer } from './zmq/harness.js';

let seg: Segmenter;
beforeAll(async () => {
  seg = await Segmenter.open();
});
afterAll(async () => {
  await seg?.close();
});

test('endpoints reachable from other machines are refused without CURVE keys', async () => {
  for (const endpoint of ['tcp://0.0.0.0:5555', 'tcp://*:5555', 'tcp://eth0:5555', 'tcp://192.168.1.20:5555', 'tcp://[::]:5555']) {
    const err = await expectCode(AnchorSegServer.open(seg, { control: endpoint }), 'ERR_INVALID_ARG');
    expect(err.message).toBe(
      `Expected a loopback endpoint (tcp://127.0.0.1, tcp://[::1], tcp://localhost, ipc://, inproc://) for options.control, or CURVE keys (options.curve) to bind beyond this machine, but received "${endpoint}" of type string (length ${endpoint.length})`,
    );
  }
  expect(['tcp://127.0.0.1:*', 'tcp://127.0.0.2:6000', 'tcp://[::1]:5555', 'tcp://localhost:5555', 'ipc:///tmp/anchorseg.sock', 'inproc://x'].every(isLocalEndpoint)).toBe(true);
  const err = await expectCode(AnchorSegServer.open(seg, { curve: { secretKey: 'short' } }), 'ERR_INVALID_ARG');
  expect(err.message).toBe('Expected a 40-character Z85 CURVE key for options.curve.secretKey but received "short" of type string (length 5)');
});

test('with CURVE only listed client keys get in, over pyzmq and AnchorSegClient', async () => {
  const server = curveKeyPair();
  const allowed = curveKeyPair();
  const stranger = curveKeyPair();
  await using s = await openServer(seg, { goal: 'the red cup', curve: { secretKey: server.secretKey, clients: [allowed.publicKey] } });
  const { control, results, frames } = s.endpoints;
  const status = JSON.stringify({ v: 2, cmd: 'status' });
  const asClient = (keys: { publicKey: string; secretKey: string }) => JSON.stringify({ serverKey: server.publicKey, ...keys });

  const ok = (await peer('request', { control }, ['--json', status, '--curve', asClient(allowed)]).done()).at(-1)!;
  expect(ok.event).toBe('reply');
  expect(ok.reply.status.auth.accepted).toBeGreaterThanOrEqual(1);
  // No reply ever comes to these: the handshake fails, so nothing reaches the server. The wait only bounds the test.
  const refused = await peer('request', { control }, ['--json', status, '--curve', asClient(stranger), '--wait-ms', '1500']).done();
  expect(refused.at(-1)!.event).toBe('timeout');
  const plain = await peer('request', { control }, ['--json', status, '--wait-ms', '1500']).done();
  expect(plain.at(-1)!.event).toBe('timeout');
  expect(s.status().auth!.rejected).toBeGreaterThanOrEqual(1); // the stranger (a plain client is refused before ZAP)

  await using client = AnchorSegClient.connect({ control, results, frames: frames!, curve: { serverKey: server.publicKey, ...allowed } });
  expect((await client.status()).goal).toBe('the red cup');
  const sub = client.results({ mode: 'rle' });
  await sub.ready();
  await client.sendFrame({ ...makeFrame('mono8', 40, 30, 0, 5), frameId: 'secret' });
  for await (const r of sub) {
    expect([r.frameId, r.width, r.height]).toEqual(['secret', 40, 30]);
    break;
  }
});

test("a key pair's public key is derived from its secret key as libzmq and pyzmq derive it; a client pair that does not match is refused", async () => {
  const pairs = Array.from({ length: 20 }, () => curveKeyPair());
  for (const { publicKey, secretKey } of pairs) expect(curvePublicKey(secretKey)).toBe(publicKey);
  const script = 'import sys, zmq; print("\\n".join(zmq.curve_public(k.encode()).decode() for k in sys.argv[1:]))';
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, ...pairs.map((p) => p.secretKey)], { encoding: 'utf8' });
  expect(stdout.trim().split('\n')).toEqual(pairs.map((p) => p.publicKey));

  const [server, mine, other] = pairs;
  const err = await expectCode(() => AnchorSegClient.connect({ curve: { serverKey: server.publicKey, publicKey: other.publicKey, secretKey: mine.secretKey } }), 'ERR_INVALID_ARG');
  expect(err.message).toBe(`Expected publicKey ${mine.publicKey} (the public key of the secretKey) in options.curve but received ${other.publicKey}`);
  // Z85 text whose group is past 2^32 - 1 is no key (libzmq's decoder refuses it too).
  const overflow = `${'#'.repeat(5)}${mine.secretKey.slice(5)}`;
  expect((await expectCode(() => curvePublicKey(overflow), 'ERR_INVALID_ARG')).message).toMatch(/^Expected a 40-character Z85 CURVE key for secretKey but received/);
});
