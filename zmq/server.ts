import { randomUUID } from 'node:crypto';
import { Pull, Reply, XPublisher, type Socket } from 'zeromq';
import { AnchorSegError, disposedError, invalidArg } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { rleEncode } from '../sdk/kernels/index.js';
import type { Segmenter } from '../sdk/segmenter.js';
import type { DropMode } from '../sdk/stream/intake.js';
import { checkReasonOptions, type ReasonOptions } from '../sdk/stream/policy.js';
import type { SegmentStream, StreamResult } from '../sdk/stream/stream.js';
import type { Goal } from '../sdk/model/tokenizer.js';
import { FrameInbox, Gate, GatedSource } from '../sdk/stream/inbox.js';
import {
  HELLO_PREFIX,
  PROTOCOL_VERSION,
  TOPICS,
  decodeFrame,
  decodeRequest,
  encodeErrorEvent,
  encodeErrorReply,
  encodeReply,
  encodeResult,
  type ErrorEvent,
  type Request,
  type ResultHeader,
} from './protocol.js';
import { ZapHandler, checkBindEndpoint, checkCurveServer, type CurveServerOptions } from './security.js';

export interface ServerOptions {
  /** REP socket for commands (default `tcp://127.0.0.1:5555`). */
  control?: string;
  /** XPUB socket results and errors are published on (default `tcp://127.0.0.1:5556`). */
  results?: string;
  /** PULL socket producers push frames to (default `tcp://127.0.0.1:5557`); null: none (use `source`). */
  frames?: string | null;
  /** Frames from this process instead of a socket (an image folder, a camera driver); read only while segmenting. */
  source?: AsyncIterable<Frame> | Iterable<Frame>;
  /** The goal to start with; without one the server waits for `set_goal`. */
  goal?: string;
  /** Start paused. */
  paused?: boolean;
  /**
   * `latest` (default): a frame that arrives while the model is busy replaces the waiting one
   * (camera). `none`: every frame is segmented; frames back up into the producer, whose sends
   * block at its high-water mark (offline processing).
   */
  drop?: DropMode;
  /** When the reasoner runs besides goal changes (seg.stream()'s dual-rate policy; default adaptive). */
  reason?: ReasonOptions;
  /** Result messages queued per subscriber before ZeroMQ drops that subscriber's newest (default 8). */
  highWaterMark?: number;
  /** Largest accepted frame message part in bytes (default 64 MiB); a larger one drops the producer's connection. */
  maxFrameBytes?: number;
  /** CURVE: required to bind beyond loopback; checks client keys when `clients` is given. */
  curve?: CurveServerOptions;
}

export type ServerState = 'running' | 'paused' | 'waiting-for-goal' | 'source-ended';

export interface ServerStatus {
  protocol: typeof PROTOCOL_VERSION;
  state: ServerState;
  goal: string | null;
  unknownWords: string[];
  model: { name: string; version: string };
  backend: string;
  endpoints: ServerEndpoints;
  frames: {
    /** Frame messages read from the frames socket, or frames read from the local source. */
    received: number;
    /** Refused as malformed or invalid (socket frames are each reported on the `error` topic). */
    rejected: number;
    /** Received but not segmented: replaced by a newer frame, or arrived while paused or without a goal. */
    dropped: number;
  };
  /** Results made (the next result's `seq`), and segmentation failures (each reported on the `error` topic). */
  results: { published: number; failed: number };
  /** Subscriptions per topic, as the subscribers announced them. */
  subscribers: Record<(typeof TOPICS)[keyof typeof TOPICS], number>;
  /** CURVE handshakes let in and refused (null without CURVE). */
  auth: { accepted: number; rejected: number } | null;
}

export interface ServerEndpoints {
  control: string;
  results: string;
  frames: string | null;
}

interface Sockets {
  control: Reply;
  results: XPublisher;
  pull: Pull | undefined;
}

interface Settings {
  goal: Goal | undefined;
  paused: boolean;
  drop: DropMode;
  reason: ReasonOptions | undefined;
  zapDomain: string | undefined;
  auth: ServerStatus['auth'];
}

const DEFAULTS = { control: 'tcp://127.0.0.1:5555', results: 'tcp://127.0.0.1:5556', frames: 'tcp://127.0.0.1:5557' };
const OPTION_KEYS = ['control', 'results', 'frames', 'source', 'goal', 'paused', 'drop', 'reason', 'highWaterMark', 'maxFrameBytes', 'curve'];
const DROP_MODES: readonly DropMode[] = ['latest', 'none'];
const MAX_REQUEST_BYTES = 1 << 20;

/**
 * `anchorseg serve`: a Segmenter's stream behind ZeroMQ sockets (docs/zmq-protocol.md). Results
 * go out on an XPUB socket, commands come in on a REP socket, frames on a PULL socket or from a
 * local source. Nothing a peer sends stops it: malformed messages get coded errors, and a slow
 * subscriber only loses its own results at its high-water mark. The server holds the
 * Segmenter's one stream while it runs; the Segmenter stays the caller's to close.
 */
export class AnchorSegServer {
  readonly #seg: Segmenter;
  readonly #sockets: Sockets;
  readonly #endpoints: ServerEndpoints;
  readonly #gate = new Gate();
  readonly #inbox: FrameInbox;
  readonly #local: GatedSource | undefined;
  readonly #drop: DropMode;
  readonly #reason: ReasonOptions | undefined;
  readonly #subscriptions = new Map<string, number>();
  readonly #zapDomain: string | undefined;
  readonly #auth: ServerStatus['auth'];
  /** The loops that end when their socket closes or the frames end. */
  readonly #loops: Promise<void>[] = [];
  /** The loop reading (un)subscriptions: ends once the results socket closes, after the others. */
  readonly #watcher: Promise<void>;
  #stream: SegmentStream | undefined;
  #goal: Goal | undefined;
  #paused: boolean;
  #received = 0;
  #rejected = 0;
  #published = 0;
  #failed = 0;
  /** Drops and refusals counted by streams that have ended (a failure starts a new one). */
  #past = { dropped: 0, invalid: 0 };
  /** Sends on the results socket, one at a time (zeromq.js allows one send in flight). */
  #sending: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  private constructor(seg: Segmenter, sockets: Sockets, endpoints: ServerEndpoints, source: ServerOptions['source'], settings: Settings) {
    this.#seg = seg;
    this.#sockets = sockets;
    this.#endpoints = endpoints;
    this.#goal = settings.goal;
    this.#paused = settings.paused;
    this.#drop = settings.drop;
    this.#reason = settings.reason;
    this.#zapDomain = settings.zapDomain;
    this.#auth = settings.auth;
    this.#inbox = new FrameInbox(this.#gate);
    this.#local = source === undefined ? undefined : new GatedSource(source, this.#gate);
    this.#updateGate();
    const frames = this.#local ?? this.#inbox;
    const first = this.#openStream(frames); // first: ERR_BUSY if the Segmenter's stream is taken
    this.#watcher = this.#watchSubscriptions();
    this.#loops.push(this.#serveControl(), this.#segmentLoop(frames, first));
    if (sockets.pull) this.#loops.push(this.#receiveFrames(sockets.pull));
  }

  /** Binds the sockets and starts serving. Refuses non-loopback endpoints unless `curve` is given. */
  static async open(seg: Segmenter, options: ServerOptions = {}): Promise<AnchorSegServer> {
    const { curve, source, control, results, frames, hwm, maxFrameBytes, drop, reason } = checkServerOptions(options);
    const goal = options.goal === undefined ? undefined : seg.tokenize(options.goal);
    if (seg.closed) throw disposedError('Segmenter');

    const zapDomain = curve ? `anchorseg-${randomUUID()}` : undefined;
    const security = curve ? { curveServer: true, curveSecretKey: curve.secretKey, zapDomain } : {};
    const sockets: Sockets = {
      control: new Reply({ linger: 0, maxMessageSize: MAX_REQUEST_BYTES, ...security }),
      // allSubsUnsubs: every (un)subscription reaches us, so subscribers can be counted per topic.
      results: new XPublisher({ linger: 0, sendHighWaterMark: hwm, verbosity: 'allSubsUnsubs', ...security }),
      pull: frames === null ? undefined : new Pull({ linger: 0, receiveHighWaterMark: 2, maxMessageSize: maxFrameBytes, ...security }),
    };
    const all: Socket[] = [sockets.control, sockets.results, ...(sockets.pull ? [sockets.pull] : [])];
    let auth: ServerStatus['auth'] = null;
    try {
      if (zapDomain) auth = await ZapHandler.register(zapDomain, curve!.clients);
      await sockets.control.bind(control);
      await sockets.results.bind(results);
      await sockets.pull?.bind(frames!);
    } catch (err) {
      for (const s of all) s.close();
      if (zapDomain) await ZapHandler.unregister(zapDomain);
      throw new AnchorSegError('ERR_INVALID_ARG', `Expected endpoints this process can bind (${[control, results, frames].filter(Boolean).join(', ')}) but binding failed: ${(err as Error).message}`, { cause: err });
    }
    const endpoints = { control: sockets.control.lastEndpoint!, results: sockets.results.lastEndpoint!, frames: sockets.pull?.lastEndpoint ?? null };
    try {
      return new AnchorSegServer(seg, sockets, endpoints, source, { goal, paused: options.paused ?? false, drop, reason, zapDomain, auth });
    } catch (err) {
      for (const s of all) s.close();
      if (zapDomain) await ZapHandler.unregister(zapDomain);
      throw err;
    }
  }

  /** The bound endpoints, with `*` ports resolved. */
  get endpoints(): ServerEndpoints {
    return { ...this.#endpoints };
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  status(): ServerStatus {
    const subscribers = Object.fromEntries(Object.values(TOPICS).map((t) => [t, this.#subscribers(t)])) as ServerStatus['subscribers'];
    const m = this.#seg.manifest.model;
    const stream = this.#stream?.stats();
    return {
      protocol: PROTOCOL_VERSION,
      state: this.#state(),
      goal: this.#goal?.text ?? null,
      unknownWords: this.#goal?.unknown ?? [],
      model: { name: m.name, version: m.version },
      backend: this.#seg.backend,
      endpoints: this.endpoints,
      frames: {
        received: this.#received + (this.#local?.received ?? 0),
        rejected: this.#rejected + this.#past.invalid + (stream?.invalid ?? 0),
        dropped: this.#dropped(),
      },
      results: { published: this.#published, failed: this.#failed },
      subscribers,
      auth: this.#auth && { ...this.#auth },
    };
  }

  /** Sets the goal for the frames that follow; throws ERR_GOAL_* (and keeps the old goal) if the model cannot read it. */
  setGoal(goal: string): Goal {
    this.#checkOpen();
    const understood = this.#seg.tokenize(goal);
    if (this.#stream && !this.#stream.closed) this.#stream.setGoal(goal);
    this.#goal = understood;
    this.#updateGate();
    return understood;
  }

  /** Stops segmenting; frames that arrive meanwhile are dropped (counted), subscribers stay connected. */
  pause(): void {
    this.#checkOpen();
    this.#paused = true;
    this.#updateGate();
  }

  resume(): void {
    this.#checkOpen();
    this.#paused = false;
    this.#updateGate();
  }

  /** Stops taking frames and commands, ends the stream (results in flight are not published), closes the sockets. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#gate.end();
      this.#inbox.end();
      this.#local?.close();
      this.#sockets.control.close();
      this.#sockets.pull?.close();
      await this.#stream?.close();
      await Promise.allSettled(this.#loops);
      await this.#sending;
      this.#sockets.results.close();
      await this.#watcher;
      if (this.#zapDomain) await ZapHandler.unregister(this.#zapDomain);
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Runs the Segmenter's stream over the frames; a failure is published and a new stream takes over. */
  async #segmentLoop(frames: AsyncIterable<Frame>, first: SegmentStream): Promise<void> {
    for (let stream = first; ; stream = this.#openStream(frames)) {
      try {
        for await (const r of stream) this.#publishResult(r);
        return; // the frames ended: a finite local source, or close()
      } catch (err) {
        if (this.closed) return;
        this.#failed++;
        this.#publish(encodeErrorEvent('segment', err, undefined));
      } finally {
        const { dropped, invalid } = stream.stats();
        this.#past = { dropped: this.#past.dropped + dropped, invalid: this.#past.invalid + invalid };
        this.#stream = undefined;
        await stream.close();
      }
      if (this.#gate.ended) return;
    }
  }

  #openStream(frames: AsyncIterable<Frame>): SegmentStream {
    this.#stream = this.#seg.stream(frames, { drop: this.#drop, ...(this.#reason && { reason: this.#reason }), ...(this.#goal && { goal: this.#goal.text }) });
    return this.#stream;
  }

  #publishResult(r: StreamResult): void {
    const seq = this.#published++;
    const wantMask = this.#subscribers(TOPICS.mask) > 0;
    const wantRle = this.#subscribers(TOPICS.rle) > 0;
    if (!wantMask && !wantRle) return; // nobody listens: skip the RLE and the copies
    const header: ResultHeader = {
      v: PROTOCOL_VERSION,
      seq,
      frameId: r.frameId ?? null,
      stamp: r.stamp ?? null,
      goal: r.goalText,
      unknownWords: r.goal.unknown,
      width: r.width,
      height: r.height,
      score: r.score,
      found: r.found,
      bbox: r.bbox,
      area: r.area,
      anchor: r.anchor,
      rle: rleEncode(r.mask, r.width, r.height),
      timings: r.timings,
      bank: r.bank,
      latencyMs: r.latencyMs,
      dropped: this.#dropped(),
    };
    const messages = encodeResult(header, r.mask);
    if (wantMask) this.#publish(messages.mask);
    if (wantRle) this.#publish(messages.rle);
  }

  /** Queues a message on the results socket. XPUB never blocks: at a subscriber's high-water mark ZeroMQ drops that subscriber's copy. */
  #publish(parts: (string | Uint8Array)[]): void {
    this.#sending = this.#sending.then(() => this.#sockets.results.send(parts)).catch(() => undefined);
  }

  async #receiveFrames(pull: Pull): Promise<void> {
    for (;;) {
      if (this.#drop === 'none') await this.#inbox.space();
      let parts: Buffer[];
      try {
        parts = await pull.receive();
      } catch {
        return; // closed
      }
      this.#received++;
      let frame: Frame;
      try {
        frame = decodeFrame(parts);
      } catch (err) {
        this.#rejected++;
        this.#publish(encodeErrorEvent('frames', err, peekFrameId(parts[0])));
        continue;
      }
      this.#inbox.put(frame);
    }
  }

  async #serveControl(): Promise<void> {
    const control = this.#sockets.control;
    for await (const parts of control) {
      let reply: Buffer;
      try {
        reply = encodeReply(this.#command(decodeRequest(parts)));
      } catch (err) {
        reply = encodeErrorReply(err);
      }
      await control.send(reply).catch(() => undefined); // the requester may be gone; REP then drops the reply
    }
  }

  #command(req: Request): Record<string, unknown> {
    switch (req.cmd) {
      case 'status':
        return { status: this.status() };
      case 'set_goal': {
        const goal = this.setGoal(req.goal);
        return { goal: goal.text, unknownWords: goal.unknown };
      }
      case 'pause':
        this.pause();
        return { state: this.#state() };
      case 'resume':
        this.resume();
        return { state: this.#state() };
    }
  }

  /** Subscription messages from XPUB: byte 1 (subscribe) or 0 (unsubscribe), then the topic prefix. */
  async #watchSubscriptions(): Promise<void> {
    for await (const [msg] of this.#sockets.results) {
      if (msg.length === 0 || msg[0] > 1) continue;
      const prefix = msg.subarray(1).toString('latin1');
      if (msg[0] === 1 && prefix.startsWith(HELLO_PREFIX) && prefix.length > HELLO_PREFIX.length) this.#publish([prefix]);
      const n = (this.#subscriptions.get(prefix) ?? 0) + (msg[0] === 1 ? 1 : -1);
      if (n > 0) this.#subscriptions.set(prefix, n);
      else this.#subscriptions.delete(prefix);
    }
  }

  #subscribers(topic: string): number {
    let n = 0;
    for (const [prefix, count] of this.#subscriptions) if (topic.startsWith(prefix)) n += count;
    return n;
  }

  #dropped(): number {
    return this.#inbox.dropped + this.#past.dropped + (this.#stream?.stats().dropped ?? 0);
  }

  #state(): ServerState {
    if (this.#local?.ended) return 'source-ended';
    if (!this.#goal) return 'waiting-for-goal';
    return this.#paused ? 'paused' : 'running';
  }

  #updateGate(): void {
    const open = this.#goal !== undefined && !this.#paused;
    if (!open) this.#inbox.discard();
    this.#gate.set(open);
  }

  #checkOpen(): void {
    if (this.#closing) throw disposedError('AnchorSegServer');
  }
}

/**
 * Validates server options without opening anything (the CLI checks before loading a model):
 * unknown keys, endpoints (loopback unless CURVE keys are given), limits, modes.
 */
export function checkServerOptions(options: ServerOptions) {
  if (typeof options !== 'object' || options === null) throw invalidArg('options', 'an object', options);
  const unknown = Object.keys(options).find((k) => !OPTION_KEYS.includes(k));
  if (unknown !== undefined) throw new AnchorSegError('ERR_INVALID_ARG', `Expected options among ${OPTION_KEYS.join(', ')} but received unknown option "${unknown}"`);
  const curve = options.curve === undefined ? undefined : checkCurveServer(options.curve, 'options.curve');
  const source = options.source;
  if (source !== undefined && (typeof source !== 'object' || source === null || !(Symbol.asyncIterator in source || Symbol.iterator in source))) {
    throw invalidArg('options.source', 'an iterable or async iterable of frames', source);
  }
  if (source !== undefined && options.frames) throw invalidArg('options.frames', 'null or undefined when options.source is given', options.frames);
  const control = checkBindEndpoint(options.control ?? DEFAULTS.control, 'options.control', !!curve);
  const results = checkBindEndpoint(options.results ?? DEFAULTS.results, 'options.results', !!curve);
  const frames = source !== undefined || options.frames === null ? null : checkBindEndpoint(options.frames ?? DEFAULTS.frames, 'options.frames', !!curve);
  const hwm = options.highWaterMark ?? 8;
  if (!Number.isInteger(hwm) || hwm < 1) throw invalidArg('options.highWaterMark', 'integer >= 1', hwm);
  const maxFrameBytes = options.maxFrameBytes ?? 64 << 20;
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) throw invalidArg('options.maxFrameBytes', 'integer >= 1', maxFrameBytes);
  if (options.paused !== undefined && typeof options.paused !== 'boolean') throw invalidArg('options.paused', 'a boolean', options.paused);
  const drop = options.drop ?? 'latest';
  if (!DROP_MODES.includes(drop)) throw invalidArg('options.drop', `one of ${DROP_MODES.join(', ')}`, drop);
  if (options.goal !== undefined && typeof options.goal !== 'string') throw invalidArg('options.goal', 'a string', options.goal, 'ERR_GOAL_INVALID');
  const reason = options.reason === undefined ? undefined : checkReasonOptions(options.reason);
  return { curve, source, control, results, frames, hwm, maxFrameBytes, drop, reason };
}

/** The frameId of a refused frame message, where its header is readable enough to have one. */
function peekFrameId(header: Uint8Array | undefined): string | undefined {
  try {
    const id = (JSON.parse(Buffer.from(header ?? []).toString('utf8')) as Partial<ErrorEvent>).frameId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
