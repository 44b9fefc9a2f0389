import { randomUUID } from 'node:crypto';
import { Pull, Reply, XPublisher, type Socket } from 'zeromq';
import { AnchorSegError, disposedError, invalidArg } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import type { Segmenter } from '../sdk/segmenter.js';
import { StreamHost, checkHostOptions, resultRecord, type HostState, type StreamTap } from '../sdk/stream/host.js';
import type { DropMode } from '../sdk/stream/intake.js';
import type { ReasonOptions } from '../sdk/stream/policy.js';
import type { StreamCounters, StreamResult } from '../sdk/stream/stream.js';
import type { Goal } from '../sdk/model/tokenizer.js';
import { HELLO_PREFIX, PROTOCOL_VERSION, TOPICS, decodeFrame, decodeRequest, encodeErrorEvent, encodeErrorReply, encodeReply, encodeResult, type ErrorEvent, type Request } from './protocol.js';
import { ZapHandler, checkBindEndpoint, checkCurveServer, isIpv6Endpoint, type CurveServerOptions } from './security.js';

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

export type ServerState = HostState;

export interface ServerStatus {
  protocol: typeof PROTOCOL_VERSION;
  state: ServerState;
  goal: string | null;
  unknownWords: string[];
  model: { name: string; version: string };
  backend: string;
  endpoints: ServerEndpoints;
  /**
   * The stream host's counters: frame messages (or local frames) received, refused as malformed
   * or invalid (each socket frame reported on the `error` topic), dropped, results made (the next
   * result's `seq`), segmentation failures (each reported on the `error` topic), query banks made.
   */
  counters: StreamCounters;
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
  zapDomain: string | undefined;
  auth: ServerStatus['auth'];
}

const DEFAULTS = { control: 'tcp://127.0.0.1:5555', results: 'tcp://127.0.0.1:5556', frames: 'tcp://127.0.0.1:5557' };
const OPTION_KEYS = ['control', 'results', 'frames', 'source', 'goal', 'paused', 'drop', 'reason', 'highWaterMark', 'maxFrameBytes', 'curve'];
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
  /** Goal, pause, frame intake, restarts, counters: the sockets only carry what it takes and gives. */
  readonly #host: StreamHost;
  readonly #subscriptions = new Map<string, number>();
  readonly #zapDomain: string | undefined;
  readonly #auth: ServerStatus['auth'];
  /** The loops that end when their socket closes or the frames end. */
  readonly #loops: Promise<void>[] = [];
  /** The loop reading (un)subscriptions: ends once the results socket closes, after the others. */
  readonly #watcher: Promise<void>;
  /** Sends on the results socket, one at a time (zeromq.js allows one send in flight). */
  #sending: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  private constructor(seg: Segmenter, sockets: Sockets, endpoints: ServerEndpoints, host: StreamHost, settings: Settings) {
    this.#seg = seg;
    this.#sockets = sockets;
    this.#endpoints = endpoints;
    this.#host = host;
    this.#zapDomain = settings.zapDomain;
    this.#auth = settings.auth;
    // First: ERR_BUSY if the Segmenter's stream is taken. A failure is published and a new stream takes over at once.
    const run = host.run(seg, { onResult: (r) => this.#publishResult(r), onFailure: (err) => this.#publish(encodeErrorEvent('segment', err, undefined)) });
    this.#watcher = this.#watchSubscriptions();
    this.#loops.push(this.#serveControl(), run);
    if (sockets.pull) this.#loops.push(this.#receiveFrames(sockets.pull));
  }

  /** Binds the sockets and starts serving. Refuses non-loopback endpoints unless `curve` is given. */
  static async open(seg: Segmenter, options: ServerOptions = {}): Promise<AnchorSegServer> {
    const { curve, source, control, results, frames, hwm, maxFrameBytes, drop, reason } = checkServerOptions(options);
    if (options.goal !== undefined) seg.tokenize(options.goal); // an unusable goal fails before anything is bound
    if (seg.closed) throw disposedError('Segmenter');

    const zapDomain = curve ? `anchorseg-${randomUUID()}` : undefined;
    const security = curve ? { curveServer: true, curveSecretKey: curve.secretKey, zapDomain } : {};
    const sockets: Sockets = {
      control: new Reply({ linger: 0, maxMessageSize: MAX_REQUEST_BYTES, ipv6: isIpv6Endpoint(control), ...security }),
      // allSubsUnsubs: every (un)subscription reaches us, so subscribers can be counted per topic.
      results: new XPublisher({ linger: 0, sendHighWaterMark: hwm, verbosity: 'allSubsUnsubs', ipv6: isIpv6Endpoint(results), ...security }),
      pull: frames === null ? undefined : new Pull({ linger: 0, receiveHighWaterMark: 2, maxMessageSize: maxFrameBytes, ipv6: isIpv6Endpoint(frames), ...security }),
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
      throw new AnchorSegError('ERR_INVALID_ARG', `Expected endpoints this process can bind (${[control, results, frames].filter(Boolean).join(', ')}) but binding failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const endpoints = { control: sockets.control.lastEndpoint!, results: sockets.results.lastEndpoint!, frames: sockets.pull?.lastEndpoint ?? null };
    try {
      const host = new StreamHost({ goal: options.goal, paused: options.paused ?? false, drop, reason, source, restartMs: 0 });
      return new AnchorSegServer(seg, sockets, endpoints, host, { zapDomain, auth });
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
    return {
      protocol: PROTOCOL_VERSION,
      state: this.#host.state,
      goal: this.#host.goal ?? null,
      unknownWords: this.#host.unknownWords,
      model: { name: m.name, version: m.version },
      backend: this.#seg.backend,
      endpoints: this.endpoints,
      counters: this.#host.counters,
      subscribers,
      auth: this.#auth && { ...this.#auth },
    };
  }

  /** Sets the goal for the frames that follow; throws ERR_GOAL_* (and keeps the old goal) if the model cannot read it. */
  setGoal(goal: string): Goal {
    this.#checkOpen();
    // The host reads the goal with the Segmenter it runs on (from open() to close()).
    return this.#host.setGoal(goal) ?? this.#seg.tokenize(goal);
  }

  /** The server's results, counters and goal for a viewer (`anchorseg serve --view`); its goal changes go through `setGoal()`. */
  tap(): StreamTap {
    return this.#host.tap((text) => this.setGoal(text));
  }

  /** Stops segmenting; frames that arrive meanwhile are dropped (counted), subscribers stay connected. */
  pause(): void {
    this.#checkOpen();
    this.#host.pause();
  }

  resume(): void {
    this.#checkOpen();
    this.#host.resume();
  }

  /** Stops taking frames and commands, ends the stream (results in flight are not published), closes the sockets. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#sockets.control.close();
      this.#sockets.pull?.close();
      await this.#host.close();
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

  #publishResult(r: StreamResult): void {
    const wantMask = this.#subscribers(TOPICS.mask) > 0;
    const wantRle = this.#subscribers(TOPICS.rle) > 0;
    if (!wantMask && !wantRle) return; // nobody listens: skip the RLE and the copies
    const messages = encodeResult({ v: PROTOCOL_VERSION, ...resultRecord(r) }, r.mask);
    if (wantMask) this.#publish(messages.mask);
    if (wantRle) this.#publish(messages.rle);
  }

  /** Queues a message on the results socket. XPUB never blocks: at a subscriber's high-water mark ZeroMQ drops that subscriber's copy. */
  #publish(parts: (string | Uint8Array)[]): void {
    this.#sending = this.#sending.then(() => this.#sockets.results.send(parts)).catch(() => undefined);
  }

  async #receiveFrames(pull: Pull): Promise<void> {
    for (;;) {
      await this.#host.space(); // drop 'none': frames back up into the producers while one waits
      let parts: Buffer[];
      try {
        parts = await pull.receive();
      } catch {
        return; // closed
      }
      const refused = this.#host.push(() => decodeFrame(parts));
      if (refused) this.#publish(encodeErrorEvent('frames', refused, peekFrameId(parts[0])));
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
        return { state: this.#host.state };
      case 'resume':
        this.resume();
        return { state: this.#host.state };
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
  // Goal, pause, drop mode, policy and source are the stream host's.
  const { source, drop, reason } = checkHostOptions({ goal: options.goal, paused: options.paused, drop: options.drop, reason: options.reason, source: options.source });
  if (source !== undefined && options.frames) throw invalidArg('options.frames', 'null or undefined when options.source is given', options.frames);
  const control = checkBindEndpoint(options.control ?? DEFAULTS.control, 'options.control', !!curve);
  const results = checkBindEndpoint(options.results ?? DEFAULTS.results, 'options.results', !!curve);
  const frames = source !== undefined || options.frames === null ? null : checkBindEndpoint(options.frames ?? DEFAULTS.frames, 'options.frames', !!curve);
  const hwm = options.highWaterMark ?? 8;
  if (!Number.isInteger(hwm) || hwm < 1) throw invalidArg('options.highWaterMark', 'integer >= 1', hwm);
  const maxFrameBytes = options.maxFrameBytes ?? 64 << 20;
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1) throw invalidArg('options.maxFrameBytes', 'integer >= 1', maxFrameBytes);
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
