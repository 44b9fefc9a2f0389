import { randomUUID } from 'node:crypto';
import { Pull, Reply, XPublisher, type Socket } from 'zeromq';
import { AnchorSegError, disposedError, invalidArg } from '../errors.js';
import type { Frame } from '../frame.js';
import { rleEncode } from '../kernels/index.js';
import type { SegmentResult } from '../result.js';
import type { Segmenter } from '../segmenter.js';
import type { Goal } from '../tokenizer.js';
import { FrameInbox, Gate, gatedSource } from './inbox.js';
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
  type BankInfo,
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
    /** Refused as malformed (each reported on the `error` topic). */
    rejected: number;
    /** Received but not segmented: replaced by a newer frame, or arrived while paused or without a goal. */
    dropped: number;
  };
  /** Results made (the next result's `seq`), and frames whose segmentation failed. */
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

const DEFAULTS = { control: 'tcp://127.0.0.1:5555', results: 'tcp://127.0.0.1:5556', frames: 'tcp://127.0.0.1:5557' };
const OPTION_KEYS = ['control', 'results', 'frames', 'source', 'goal', 'paused', 'highWaterMark', 'maxFrameBytes', 'curve'];
const MAX_REQUEST_BYTES = 1 << 20;

/**
 * `anchorseg serve`: a Segmenter behind ZeroMQ sockets (docs/zmq-protocol.md). Results go out
 * on an XPUB socket, commands come in on a REP socket, frames on a PULL socket or from a local
 * source. Nothing a peer sends stops it: malformed messages get coded errors, a slow subscriber
 * loses its own oldest-unsent results at the high-water mark, and frames are latest-wins.
 * The Segmenter stays the caller's: `close()` stops the server, not the model.
 */
export class AnchorSegServer {
  readonly #seg: Segmenter;
  readonly #control: Reply;
  readonly #results: XPublisher;
  readonly #pull: Pull | undefined;
  readonly #endpoints: ServerEndpoints;
  readonly #gate = new Gate();
  readonly #inbox: FrameInbox;
  readonly #subscriptions = new Map<string, number>();
  readonly #zapDomain: string | undefined;
  readonly #auth: ServerStatus['auth'];
  /** The loops that end when their socket or the frame source closes. */
  readonly #loops: Promise<void>[] = [];
  #watcher: Promise<void> = Promise.resolve();
  #goal: Goal | undefined;
  #paused: boolean;
  #sourceEnded = false;
  #received = 0;
  #rejected = 0;
  #published = 0;
  #failed = 0;
  /** Sends on the results socket, one at a time (zeromq.js allows one send in flight). */
  #sending: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  private constructor(seg: Segmenter, sockets: { control: Reply; results: XPublisher; pull: Pull | undefined }, endpoints: ServerEndpoints, goal: Goal | undefined, paused: boolean, zapDomain: string | undefined, auth: ServerStatus['auth']) {
    this.#seg = seg;
    this.#control = sockets.control;
    this.#results = sockets.results;
    this.#pull = sockets.pull;
    this.#endpoints = endpoints;
    this.#goal = goal;
    this.#paused = paused;
    this.#zapDomain = zapDomain;
    this.#auth = auth;
    this.#inbox = new FrameInbox(this.#gate);
    this.#updateGate();
  }

  /** Binds the sockets and starts serving. Refuses non-loopback endpoints unless `curve` is given. */
  static async open(seg: Segmenter, options: ServerOptions = {}): Promise<AnchorSegServer> {
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
    const goal = options.goal === undefined ? undefined : seg.tokenize(options.goal);
    if (seg.closed) throw disposedError('Segmenter');

    const zapDomain = curve ? `anchorseg-${randomUUID()}` : undefined;
    const security = curve ? { curveServer: true, curveSecretKey: curve.secretKey, zapDomain } : {};
    const sockets = {
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
      if (err instanceof AnchorSegError) throw err;
      throw new AnchorSegError('ERR_INVALID_ARG', `Expected endpoints this process can bind (${[control, results, frames].filter(Boolean).join(', ')}) but binding failed: ${(err as Error).message}`, { cause: err });
    }
    const endpoints = { control: sockets.control.lastEndpoint!, results: sockets.results.lastEndpoint!, frames: sockets.pull?.lastEndpoint ?? null };
    const server = new AnchorSegServer(seg, sockets, endpoints, goal, options.paused ?? false, zapDomain, auth);
    server.#start(source);
    return server;
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
    return {
      protocol: PROTOCOL_VERSION,
      state: this.#state(),
      goal: this.#goal?.text ?? null,
      unknownWords: this.#goal?.unknown ?? [],
      model: { name: m.name, version: m.version },
      backend: this.#seg.backend,
      endpoints: this.endpoints,
      frames: { received: this.#received, rejected: this.#rejected, dropped: this.#inbox.dropped },
      results: { published: this.#published, failed: this.#failed },
      subscribers,
      auth: this.#auth && { ...this.#auth },
    };
  }

  /** Sets the goal for the frames that follow; throws ERR_GOAL_* (and keeps the old goal) if the model cannot read it. */
  setGoal(goal: string): Goal {
    this.#checkOpen();
    const understood = this.#seg.tokenize(goal);
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

  /** Stops taking frames and commands, lets the frame being segmented finish and be published, then closes the sockets. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#gate.end();
      this.#inbox.end();
      this.#control.close();
      this.#pull?.close();
      await Promise.allSettled(this.#loops);
      await this.#sending;
      this.#results.close();
      await this.#watcher;
      if (this.#zapDomain) await ZapHandler.unregister(this.#zapDomain);
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #start(source: ServerOptions['source']): void {
    const frames = source === undefined ? this.#inbox : this.#counted(gatedSource(source, this.#gate));
    this.#watcher = this.#watchSubscriptions();
    this.#loops.push(this.#serveControl(), this.#segmentLoop(frames));
    if (this.#pull) this.#loops.push(this.#receiveFrames(this.#pull));
  }

  async *#counted(frames: AsyncIterable<Frame>): AsyncGenerator<Frame> {
    for await (const frame of frames) {
      this.#received++;
      yield frame;
    }
    this.#sourceEnded = true;
  }

  async #segmentLoop(frames: AsyncIterable<Frame>): Promise<void> {
    for await (const frame of frames) {
      let result: SegmentResult;
      try {
        result = await this.#seg.segment(frame, this.#goal!.text);
      } catch (err) {
        if (this.#seg.closed || this.closed) break;
        this.#failed++;
        this.#publish(encodeErrorEvent('segment', err, frame.frameId));
        continue;
      }
      this.#publishResult(result, null);
    }
  }

  #publishResult(r: SegmentResult, bank: BankInfo | null): void {
    const seq = this.#published++;
    const wantMask = this.#subscribers(TOPICS.mask) > 0;
    const wantRle = this.#subscribers(TOPICS.rle) > 0;
    if (!wantMask && !wantRle) return; // nobody listens: skip the RLE and the copies
    const header: ResultHeader = {
      v: PROTOCOL_VERSION,
      seq,
      frameId: r.frameId ?? null,
      stamp: r.stamp ?? null,
      goal: r.goal.text,
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
      bank,
      dropped: this.#inbox.dropped,
    };
    const messages = encodeResult(header, r.mask);
    if (wantMask) this.#publish(messages.mask);
    if (wantRle) this.#publish(messages.rle);
  }

  /** Queues a message on the results socket. XPUB never blocks: at a subscriber's high-water mark ZeroMQ drops that subscriber's copy. */
  #publish(parts: (string | Uint8Array)[]): void {
    this.#sending = this.#sending.then(() => this.#results.send(parts)).catch(() => undefined);
  }

  async #receiveFrames(pull: Pull): Promise<void> {
    for await (const parts of pull) {
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
    for await (const parts of this.#control) {
      let reply: Buffer;
      try {
        reply = encodeReply(this.#command(decodeRequest(parts)));
      } catch (err) {
        reply = encodeErrorReply(err);
      }
      await this.#control.send(reply).catch(() => undefined); // the requester may be gone; REP then drops the reply
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
    for await (const [msg] of this.#results) {
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

  #state(): ServerState {
    if (this.#sourceEnded) return 'source-ended';
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

/** The frameId of a refused frame message, where its header is readable enough to have one. */
function peekFrameId(header: Uint8Array | undefined): string | undefined {
  try {
    const id = (JSON.parse(Buffer.from(header ?? []).toString('utf8')) as Partial<ErrorEvent>).frameId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
