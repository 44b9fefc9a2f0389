/**
 * The anchorseg ZeroMQ wire format, version 2 (docs/zmq-protocol.md): every message is a list
 * of frames ("parts"); JSON parts are UTF-8 objects carrying `"v": 2`; pixels travel raw.
 * Encoders are used by the server and the client alike, so both ends agree by construction.
 */
import { AnchorSegError, describe } from '../sdk/base/errors.js';
import { frameByteLength, validateExactFrame, validateFrame, type Frame } from '../sdk/base/frame.js';
import type { ResultRecord } from '../sdk/stream/host.js';

/** 2: status `counters` (the stream host's) replaced `frames` and `results`; result headers are the result record (with `frameIndex`). */
export const PROTOCOL_VERSION = 2;

/**
 * Topics of the results socket. PUB/SUB matches by prefix: subscribe to exactly one of the two
 * result topics (a subscription to `result` would receive both copies of every result).
 */
export const TOPICS = {
  /** [topic, header, mask]: the header and the raw mono8 mask. */
  mask: 'result.mask',
  /** [topic, header]: the header alone (its `rle` field holds the mask). */
  rle: 'result.rle',
  /** [topic, error]: a frame the server refused, or a frame it failed to segment. */
  error: 'error',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

/**
 * A subscriber that also subscribes to `hello.<unique id>` gets a one-part message on that topic
 * once the server has seen the subscription. Subscriptions travel in order, so by then the
 * server also has the subscriber's earlier ones: results published afterwards reach it. Sent
 * again after every reconnect.
 */
export const HELLO_PREFIX = 'hello.';

export const COMMANDS = ['status', 'set_goal', 'pause', 'resume'] as const;
export type Command = (typeof COMMANDS)[number];

/** The JSON header of a result (both topics): the result record (docs/streaming.md), with the protocol version. */
export type ResultHeader = { v: typeof PROTOCOL_VERSION } & ResultRecord;

export interface ErrorBody {
  code: string;
  message: string;
}

/** The JSON part of an `error` topic message. */
export interface ErrorEvent extends ErrorBody {
  v: typeof PROTOCOL_VERSION;
  /** `frames`: the frame was refused before segmentation; `segment`: segmentation failed. */
  source: 'frames' | 'segment';
  frameId: string | null;
}

export type Request = { v: typeof PROTOCOL_VERSION; cmd: 'status' | 'pause' | 'resume' } | { v: typeof PROTOCOL_VERSION; cmd: 'set_goal'; goal: string };

export type Reply = ({ v: typeof PROTOCOL_VERSION; ok: true } & Record<string, unknown>) | { v: typeof PROTOCOL_VERSION; ok: false; error: ErrorBody };

/** The header of a frame message: sensor_msgs/Image without the data. */
export type FrameHeader = { v: typeof PROTOCOL_VERSION } & Omit<Frame, 'data'>;

const FRAME_KEYS = ['v', 'width', 'height', 'encoding', 'step', 'stamp', 'frameId'];

type Part = Uint8Array;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

function protocolError(message: string): AnchorSegError {
  return new AnchorSegError('ERR_PROTOCOL', message);
}

/** Throws ERR_PROTOCOL unless the message has `count` parts. */
export function checkParts(parts: readonly Part[], count: number, what: string): void {
  if (parts.length !== count) throw protocolError(`Expected ${what} of ${count} part${count > 1 ? 's' : ''} but received ${parts.length}`);
}

/** One JSON object part with `"v": 1`; ERR_PROTOCOL says which of these it was not. */
export function parseObject(part: Part, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(part));
  } catch (err) {
    throw protocolError(`Expected UTF-8 JSON for ${name} but received ${part.byteLength} bytes that are not (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocolError(`Expected a JSON object for ${name} but received ${describe(value)}`);
  const o = value as Record<string, unknown>;
  if (o.v !== PROTOCOL_VERSION) throw protocolError(`Expected protocol version ${PROTOCOL_VERSION} for ${name}.v but received ${describe(o.v)}`);
  return o;
}

/** A frame message: [header, pixels], the pixels exactly `step x rows` bytes. */
export function encodeFrame(frame: Frame): [Buffer, Uint8Array] {
  const { width, height, encoding, step, stamp, frameId } = validateFrame(frame);
  const header: FrameHeader = { v: PROTOCOL_VERSION, width, height, encoding, step, ...(stamp && { stamp }), ...(frameId !== undefined && { frameId }) };
  return [json(header), frame.data.subarray(0, frameByteLength(encoding, height, step))];
}

/** The frame in a frame message; ERR_PROTOCOL for a malformed message, ERR_FRAME_INVALID for a bad frame. */
export function decodeFrame(parts: readonly Part[]): Frame {
  checkParts(parts, 2, 'a frame message [header, pixels]');
  const h = parseObject(parts[0], 'frame header');
  const unknown = Object.keys(h).find((k) => !FRAME_KEYS.includes(k));
  if (unknown !== undefined) throw protocolError(`Expected frame header keys among ${FRAME_KEYS.join(', ')} but received unknown key "${unknown}"`);
  const { v: _v, ...fields } = h;
  return validateExactFrame({ ...fields, data: parts[1] }, 'pixels', 'frame header');
}

export function encodeRequest(request: Request): Buffer {
  return json(request);
}

/** A control request: one JSON part naming a known command with its arguments. */
export function decodeRequest(parts: readonly Part[]): Request {
  checkParts(parts, 1, 'a request');
  const o = parseObject(parts[0], 'request');
  const cmd = o.cmd;
  if (typeof cmd !== 'string' || !(COMMANDS as readonly string[]).includes(cmd)) {
    throw protocolError(`Expected cmd among ${COMMANDS.join(', ')} but received ${describe(cmd)}`);
  }
  const allowed = cmd === 'set_goal' ? ['v', 'cmd', 'goal'] : ['v', 'cmd'];
  const extra = Object.keys(o).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw protocolError(`Expected ${cmd} keys among ${allowed.join(', ')} but received unknown key "${extra}"`);
  if (cmd === 'set_goal') {
    if (typeof o.goal !== 'string') throw new AnchorSegError('ERR_GOAL_INVALID', `Expected a string for goal but received ${describe(o.goal)}`);
    return { v: PROTOCOL_VERSION, cmd, goal: o.goal };
  }
  return { v: PROTOCOL_VERSION, cmd: cmd as Exclude<Command, 'set_goal'> };
}

export function encodeReply(body: Record<string, unknown>): Buffer {
  return json({ v: PROTOCOL_VERSION, ok: true, ...body });
}

/** The reply to a request that failed: its code and message; other errors are reported as ERR_INTERNAL. */
export function encodeErrorReply(err: unknown): Buffer {
  return json({ v: PROTOCOL_VERSION, ok: false, error: errorBody(err) });
}

export function decodeReply(parts: readonly Part[]): Reply {
  checkParts(parts, 1, 'a reply');
  const o = parseObject(parts[0], 'reply');
  if (typeof o.ok !== 'boolean') throw protocolError(`Expected a boolean for reply.ok but received ${describe(o.ok)}`);
  return o as Reply;
}

export function errorBody(err: unknown): ErrorBody {
  if (err instanceof AnchorSegError) return { code: err.code, message: err.message };
  return { code: 'ERR_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** The result messages of one header: the mask topic's [topic, header, mask], and the RLE topic's [topic, header]. */
export function encodeResult(header: ResultHeader, mask: Uint8Array): { mask: [string, Buffer, Uint8Array]; rle: [string, Buffer] } {
  const h = json(header);
  return { mask: [TOPICS.mask, h, mask], rle: [TOPICS.rle, h] };
}

/** A result message of either topic: its header, and the raw mask where the message carries one. */
export function decodeResult(parts: readonly Part[]): { topic: typeof TOPICS.mask | typeof TOPICS.rle; header: ResultHeader; mask: Uint8Array | undefined } {
  const topic = parts.length > 0 ? Buffer.from(parts[0]).toString('latin1') : '';
  if (topic !== TOPICS.mask && topic !== TOPICS.rle) throw protocolError(`Expected topic ${TOPICS.mask} or ${TOPICS.rle} but received ${describe(topic)}`);
  checkParts(parts, topic === TOPICS.mask ? 3 : 2, `a ${topic} message`);
  const header = parseObject(parts[1], 'result header') as unknown as ResultHeader;
  for (const key of ['seq', 'width', 'height'] as const) {
    if (!Number.isInteger(header[key]) || header[key] < 0) throw protocolError(`Expected a non-negative integer for header.${key} but received ${describe(header[key])}`);
  }
  if (typeof header.rle?.counts !== 'string') throw protocolError(`Expected an RLE object for header.rle but received ${describe(header.rle)}`);
  const mask = topic === TOPICS.mask ? parts[2] : undefined;
  if (mask && mask.byteLength !== header.width * header.height) {
    throw protocolError(`Expected a ${header.width}x${header.height} mask of ${header.width * header.height} bytes but received ${mask.byteLength}`);
  }
  return { topic, header, mask };
}

export function encodeErrorEvent(source: ErrorEvent['source'], err: unknown, frameId: string | undefined): [string, Buffer] {
  const event: ErrorEvent = { v: PROTOCOL_VERSION, source, ...errorBody(err), frameId: frameId ?? null };
  return [TOPICS.error, json(event)];
}

export function decodeErrorEvent(parts: readonly Part[]): ErrorEvent {
  checkParts(parts, 2, 'an error message [topic, body]');
  return parseObject(parts[1], 'error event') as unknown as ErrorEvent;
}
