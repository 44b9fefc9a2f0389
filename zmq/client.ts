import { randomUUID } from 'node:crypto';
import { Push, Request, Subscriber } from 'zeromq';
import { AnchorSegError, abortError, disposedError, invalidArg, throwIfAborted, type ErrorCode } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { rleDecode } from '../sdk/kernels/index.js';
import { abortable } from '../sdk/base/lane.js';
import {
  HELLO_PREFIX,
  PROTOCOL_VERSION,
  TOPICS,
  decodeErrorEvent,
  decodeReply,
  decodeResult,
  encodeFrame,
  encodeRequest,
  type ErrorEvent,
  type Request as ControlRequest,
  type ResultHeader,
} from './protocol.js';
import { checkCurveClient, isIpv6Endpoint, type CurveClientOptions } from './security.js';
import type { ServerState, ServerStatus } from './server.js';

export interface ClientOptions {
  /** The server's control endpoint (default `tcp://127.0.0.1:5555`). */
  control?: string;
  /** Its results endpoint (default `tcp://127.0.0.1:5556`). */
  results?: string;
  /** Its frames endpoint (default `tcp://127.0.0.1:5557`). */
  frames?: string;
  /** How long a command waits for its reply (default 5000 ms); then ERR_TIMEOUT, and the next command still works. */
  timeoutMs?: number;
  /** Frames queued on this side (while the server is busy or not yet connected) before `sendFrame` drops one (default 2). */
  framesHighWaterMark?: number;
  curve?: CurveClientOptions;
}

export interface SubscribeOptions {
  /** Results queued on this side before ZeroMQ drops newer ones (default 8). */
  highWaterMark?: number;
}

export interface ResultOptions extends SubscribeOptions {
  /** `mask` (default): the raw mask travels; `rle`: only the header, the mask is decoded from its RLE here. */
  mode?: 'mask' | 'rle';
}

/** A result as received: the header fields and the mask (0 | 255, row-major, width x height). */
export interface ZmqResult extends ResultHeader {
  mask: Uint8Array;
}

export interface SubscriptionStats {
  /** Messages received. */
  received: number;
  /** Results this subscriber missed (gaps in `seq`): dropped at a high-water mark because it read too slowly. */
  missed: number;
  /** Times the server acknowledged the subscription: 1, plus one per reconnect. */
  connects: number;
}

const DEFAULTS = { control: 'tcp://127.0.0.1:5555', results: 'tcp://127.0.0.1:5556', frames: 'tcp://127.0.0.1:5557' };
const OPTION_KEYS = ['control', 'results', 'frames', 'timeoutMs', 'framesHighWaterMark', 'curve'];

/**
 * A program's side of `anchorseg serve`: commands (`setGoal`, `status`, `pause`, `resume`),
 * frames in (`sendFrame`), results out (`results()`), over the documented wire format.
 * Sockets reconnect by themselves: a restarted server is picked up without a new client.
 */
export class AnchorSegClient {
  readonly #endpoints: { control: string; results: string; frames: string };
  readonly #timeoutMs: number;
  readonly #framesHwm: number;
  readonly #security: Record<string, unknown>;
  readonly #request: Request;
  #push: Push | undefined;
  /** Commands and frames go one at a time (zeromq.js allows one send/receive in flight per socket). */
  #requests: Promise<unknown> = Promise.resolve();
  #frames: Promise<unknown> = Promise.resolve();
  readonly #subscriptions = new Set<Subscription<unknown>>();
  #closed = false;

  private constructor(options: ClientOptions) {
    if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
    const unknown = Object.keys(options).find((k) => !OPTION_KEYS.includes(k));
    if (unknown !== undefined) throw new AnchorSegError('ERR_INVALID_ARG', `Expected options among ${OPTION_KEYS.join(', ')} but received unknown option "${unknown}"`);
    for (const key of ['control', 'results', 'frames'] as const) {
      const v = options[key];
      if (v !== undefined && (typeof v !== 'string' || !/^(tcp|ipc|inproc):\/\/.+/.test(v))) throw invalidArg(`options.${key}`, 'a ZeroMQ endpoint such as tcp://127.0.0.1:5555', v);
    }
    this.#endpoints = { control: options.control ?? DEFAULTS.control, results: options.results ?? DEFAULTS.results, frames: options.frames ?? DEFAULTS.frames };
    const timeoutMs = options.timeoutMs ?? 5000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw invalidArg('options.timeoutMs', 'integer >= 1', timeoutMs);
    this.#timeoutMs = timeoutMs;
    const framesHwm = options.framesHighWaterMark ?? 2;
    if (!Number.isInteger(framesHwm) || framesHwm < 1) throw invalidArg('options.framesHighWaterMark', 'integer >= 1', framesHwm);
    this.#framesHwm = framesHwm;
    const curve = options.curve === undefined ? undefined : checkCurveClient(options.curve, 'options.curve');
    this.#security = curve ? { curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey } : {};
    // relaxed + correlate: after a timed-out command the next one may be sent, and a late reply is discarded.
    this.#request = new Request({
      linger: 0,
      relaxed: true,
      correlate: true,
      receiveTimeout: timeoutMs,
      sendTimeout: timeoutMs,
      ipv6: isIpv6Endpoint(this.#endpoints.control),
      ...this.#security,
    });
    this.#request.connect(this.#endpoints.control);
  }

  /** Connects to a server (connections complete in the background; commands wait up to `timeoutMs`). */
  static connect(options: ClientOptions = {}): AnchorSegClient {
    return new AnchorSegClient(options);
  }

  async status(options: { signal?: AbortSignal } = {}): Promise<ServerStatus> {
    return (await this.request({ v: PROTOCOL_VERSION, cmd: 'status' }, options)).status as ServerStatus;
  }

  /** Sets the server's goal; rejects with the server's ERR_GOAL_* when the model cannot read it. */
  async setGoal(goal: string, options: { signal?: AbortSignal } = {}): Promise<{ goal: string; unknownWords: string[] }> {
    const reply = await this.request({ v: PROTOCOL_VERSION, cmd: 'set_goal', goal }, options);
    return { goal: reply.goal as string, unknownWords: reply.unknownWords as string[] };
  }

  async pause(options: { signal?: AbortSignal } = {}): Promise<ServerState> {
    return (await this.request({ v: PROTOCOL_VERSION, cmd: 'pause' }, options)).state as ServerState;
  }

  async resume(options: { signal?: AbortSignal } = {}): Promise<ServerState> {
    return (await this.request({ v: PROTOCOL_VERSION, cmd: 'resume' }, options)).state as ServerState;
  }

  /** One command round trip; an error reply rejects with the server's code and message. */
  request(req: ControlRequest, options: { signal?: AbortSignal } = {}): Promise<Record<string, unknown>> {
    this.#checkOpen();
    throwIfAborted(options.signal);
    const turn = this.#requests.then(() => this.#roundTrip(req));
    this.#requests = turn.catch(() => undefined);
    return abortable(turn, options.signal);
  }

  /**
   * Pushes a frame to the server. Resolves false when the frame was dropped here because the
   * server is not taking frames fast enough (latest-wins, as the server does).
   */
  sendFrame(frame: Frame): Promise<boolean> {
    this.#checkOpen();
    const parts = encodeFrame(frame);
    if (!this.#push) {
      this.#push = new Push({ linger: 0, sendHighWaterMark: this.#framesHwm, sendTimeout: 0, ipv6: isIpv6Endpoint(this.#endpoints.frames), ...this.#security });
      this.#push.connect(this.#endpoints.frames);
    }
    const push = this.#push;
    const sent = this.#frames.then(() =>
      push.send(parts).then(
        () => true,
        (err: { code?: string }) => {
          if (err.code === 'EAGAIN') return false;
          throw err;
        },
      ),
    );
    this.#frames = sent.catch(() => undefined);
    return sent;
  }

  /** Subscribes to results; iterate it (once), `await ready()` before depending on the first ones. */
  results(options: ResultOptions = {}): Subscription<ZmqResult> {
    const mode = options.mode ?? 'mask';
    if (mode !== 'mask' && mode !== 'rle') throw invalidArg('options.mode', '"mask" or "rle"', mode);
    return this.#subscribe(mode === 'mask' ? TOPICS.mask : TOPICS.rle, options, (parts) => {
      const { header, mask } = decodeResult(parts);
      return { ...header, mask: mask ?? rleDecode(header.rle) };
    });
  }

  /** Subscribes to the server's error events: refused frames and failed segmentations. */
  errors(options: SubscribeOptions = {}): Subscription<ErrorEvent> {
    return this.#subscribe(TOPICS.error, options, decodeErrorEvent);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every socket and ends every subscription's iteration. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subscriptions) s.close();
    this.#request.close();
    this.#push?.close();
    await Promise.allSettled([this.#requests, this.#frames]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #roundTrip(req: ControlRequest): Promise<Record<string, unknown>> {
    let parts: Buffer[];
    try {
      await this.#request.send(encodeRequest(req));
      parts = await this.#request.receive();
    } catch (err) {
      if (this.#closed) throw disposedError('AnchorSegClient');
      if ((err as { code?: string }).code === 'EAGAIN') {
        throw new AnchorSegError('ERR_TIMEOUT', `Expected a reply to ${req.cmd} from ${this.#endpoints.control} within ${this.#timeoutMs} ms but received none (is anchorseg serve running there?)`);
      }
      throw err;
    }
    const reply = decodeReply(parts);
    if (!reply.ok) throw new AnchorSegError(reply.error.code as ErrorCode, reply.error.message);
    const { v: _v, ok: _ok, ...body } = reply;
    return body;
  }

  #subscribe<T>(topic: string, options: SubscribeOptions, decode: (parts: Buffer[]) => T): Subscription<T> {
    this.#checkOpen();
    const hwm = options.highWaterMark ?? 8;
    if (!Number.isInteger(hwm) || hwm < 1) throw invalidArg('options.highWaterMark', 'integer >= 1', hwm);
    const socket = new Subscriber({ linger: 0, receiveHighWaterMark: hwm, ipv6: isIpv6Endpoint(this.#endpoints.results), ...this.#security });
    const hello = `${HELLO_PREFIX}${randomUUID()}`;
    socket.subscribe(topic, hello); // in this order: the hello ack implies the topic subscription arrived
    socket.connect(this.#endpoints.results);
    const sub = new Subscription<T>(socket, hello, decode, () => this.#subscriptions.delete(sub as Subscription<unknown>));
    this.#subscriptions.add(sub as Subscription<unknown>);
    return sub;
  }

  #checkOpen(): void {
    if (this.#closed) throw disposedError('AnchorSegClient');
  }
}

/** Messages of one topic from the server, as an async iterable (one iteration at a time); `close()` or `break` ends it. */
export class Subscription<T> implements AsyncIterable<T> {
  readonly #socket: Subscriber;
  readonly #hello: string;
  readonly #decode: (parts: Buffer[]) => T;
  readonly #onClose: () => void;
  readonly #ready: Promise<void>;
  #settleReady!: (err?: Error) => void;
  /** Messages read by `ready()` before the acknowledgement, handed out first by the iteration. */
  readonly #early: Buffer[][] = [];
  readonly #maxEarly: number;
  #waitingForHello: Promise<void> | undefined;
  #iterating = false;
  #received = 0;
  #missed = 0;
  #connects = 0;
  #lastSeq: number | undefined;

  constructor(socket: Subscriber, hello: string, decode: (parts: Buffer[]) => T, onClose: () => void) {
    this.#socket = socket;
    this.#hello = hello;
    this.#decode = decode;
    this.#onClose = onClose;
    this.#maxEarly = socket.receiveHighWaterMark;
    this.#ready = new Promise((resolve, reject) => (this.#settleReady = (err) => (err ? reject(err) : resolve())));
    this.#ready.catch(() => undefined);
  }

  /** Resolves once the server has this subscription: results published afterwards will arrive. */
  ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    if (!this.#iterating && this.#connects === 0) this.#waitingForHello ??= this.#readUntilHello();
    return abortable(this.#ready, options.signal);
  }

  stats(): SubscriptionStats {
    return { received: this.#received, missed: this.#missed, connects: this.#connects };
  }

  close(): void {
    if (this.#socket.closed) return;
    this.#socket.close();
    this.#settleReady(disposedError('Subscription'));
    this.#onClose();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new AnchorSegError('ERR_BUSY', 'Expected one iteration of a Subscription at a time but received a second');
    this.#iterating = true;
    try {
      await this.#waitingForHello;
      for (let parts = this.#early.shift(); parts; parts = this.#early.shift()) yield this.#take(parts);
      for await (const parts of this.#socket) {
        if (!this.#isHello(parts)) yield this.#take(parts);
      }
    } finally {
      this.close();
    }
  }

  /** Receives until the acknowledgement, keeping the newest messages that came first. */
  async #readUntilHello(): Promise<void> {
    try {
      for (;;) {
        const parts = await this.#socket.receive();
        if (this.#isHello(parts)) return;
        this.#early.push(parts);
        if (this.#early.length > this.#maxEarly) this.#early.shift();
      }
    } catch {
      // closed before the acknowledgement: close() has rejected ready()
    }
  }

  #isHello(parts: Buffer[]): boolean {
    if (parts.length !== 1 || parts[0].toString('latin1') !== this.#hello) return false;
    this.#connects++;
    this.#settleReady();
    return true;
  }

  #take(parts: Buffer[]): T {
    const value = this.#decode(parts);
    this.#received++;
    this.#countGap((value as { seq?: unknown }).seq);
    return value;
  }

  /** A jump in `seq` is results dropped on the way to us; a step back is a restarted server. */
  #countGap(seq: unknown): void {
    if (typeof seq !== 'number') return;
    if (this.#lastSeq !== undefined && seq > this.#lastSeq + 1) this.#missed += seq - this.#lastSeq - 1;
    this.#lastSeq = seq;
  }
}
