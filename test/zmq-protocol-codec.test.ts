/**
 * The wire format's encoders and decoders on their own (no sockets; the peers' tests cover the
 * same paths end to end): round trips for every pixel encoding, the exact refusals, Z85 keys.
 * (The frame intake behind the sockets is the stream host's: test/stream-host.test.ts.)
 */
import { expect, test } from 'vitest';
import { ENCODINGS, type Encoding, type Frame } from '../sdk/index.js';
import { decodeFrame, decodeResult, encodeFrame, encodeResult, type ResultHeader } from '../zmq/index.js';
import { decodeRequest } from '../zmq/protocol.js';
import { checkKey, z85Encode } from '../zmq/security.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { expectCode } from './fixtures/sdk-helpers.js';

test('a frame survives encodeFrame -> decodeFrame in every encoding, padded rows included; extra buffer bytes are not sent', () => {
  for (const encoding of Object.keys(ENCODINGS) as Encoding[]) {
    const f = makeFrame(encoding, 6, 5, 3, 9);
    const frame: Frame = { ...f, data: Buffer.concat([f.data, Buffer.from([1, 2, 3])]), frameId: `cam/${encoding}`, stamp: { sec: 5, nanosec: 7 } };
    const [header, pixels] = encodeFrame(frame);
    expect(pixels.byteLength, encoding).toBe(f.data.byteLength);
    const back = decodeFrame([header, pixels]);
    expect({ ...back, data: Buffer.from(back.data) }).toEqual({ ...frame, data: Buffer.from(f.data) });
  }
});

test('result messages: the mask topic carries header + raw mask, the RLE topic the same header alone', () => {
  const mask = new Uint8Array([0, 255, 255, 0, 0, 0]);
  const header = { v: 2, seq: 3, width: 3, height: 2, rle: { size: [2, 3], counts: '1120' } } as unknown as ResultHeader;
  const { mask: withMask, rle } = encodeResult(header, mask);
  const parts = (m: (string | Uint8Array)[]) => m.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
  expect(decodeResult(parts(withMask))).toEqual({ topic: 'result.mask', header, mask });
  expect(decodeResult(parts(rle))).toEqual({ topic: 'result.rle', header, mask: undefined });
  const short = [Buffer.from('result.mask'), withMask[1], mask.subarray(1)];
  expect(() => decodeResult(short)).toThrow('Expected a 3x2 mask of 6 bytes but received 5');
  expect(() => decodeResult([Buffer.from('results'), withMask[1]])).toThrow('Expected topic result.mask or result.rle but received "results" of type string (length 7)');
});

test('requests: each command with its arguments; anything else refused with what was expected', async () => {
  const req = (o: unknown) => [Buffer.from(JSON.stringify(o))];
  expect(decodeRequest(req({ v: 2, cmd: 'status' }))).toEqual({ v: 2, cmd: 'status' });
  expect(decodeRequest(req({ v: 2, cmd: 'set_goal', goal: 'a cup' }))).toEqual({ v: 2, cmd: 'set_goal', goal: 'a cup' });
  expect(decodeRequest(req({ v: 2, cmd: 'pause' }))).toEqual({ v: 2, cmd: 'pause' });
  expect(decodeRequest(req({ v: 2, cmd: 'resume' }))).toEqual({ v: 2, cmd: 'resume' });
  const missing = await expectCode(() => decodeRequest(req({ v: 2, cmd: 'set_goal' })), 'ERR_GOAL_INVALID');
  expect(missing.message).toBe('Expected a string for goal but received undefined');
  const extra = await expectCode(() => decodeRequest(req({ v: 2, cmd: 'pause', goal: 'x' })), 'ERR_PROTOCOL');
  expect(extra.message).toBe('Expected pause keys among v, cmd but received unknown key "goal"');
  const nul = await expectCode(() => decodeRequest(req(null)), 'ERR_PROTOCOL');
  expect(nul.message).toBe('Expected a JSON object for request but received null');
});

test('Z85 (ZeroMQ RFC 32 test vector) and CURVE key checks', async () => {
  expect(z85Encode(new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).toBe('HelloWorld');
  expect(checkKey('rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7', 'key')).toBe('rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7');
  const bad = await expectCode(() => checkKey('rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf"', 'options.curve.secretKey'), 'ERR_INVALID_ARG');
  expect(bad.message).toBe('Expected a 40-character Z85 CURVE key for options.curve.secretKey but received "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\\"" of type string (length 40)');
});
