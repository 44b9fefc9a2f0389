import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { AnchorSegError, abortError, disposedError, invalidArg } from '../base/errors.js';
import { validateFrame, type Frame, type Stamp } from '../base/frame.js';
import { rleEncode, type Rle } from '../kernels/index.js';
import type { SegmentResult } from '../model/result.js';
import type { Goal } from '../model/tokenizer.js';
import { OWN_INTAKE, checkSource, iteratorOf, release, type DropMode, type FrameSource, type Intake, type IntakeMaker, type Taken } from './intake.js';
import { BANK_REASONS, checkBag, checkReasonOptions, type BankReason, type ReasonOptions } from './policy.js';
import type { BankInfo, SegmentStream, StreamCounters, StreamOptions, StreamResult } from './stream.js';

/**
 * The one JSON shape of a result, whatever carries it: the ZeroMQ result header (plus `v`), the
 * ROS 2 node's JSON metadata (and, field by field, its anchorseg_msgs/Segmentation message), and
 * each line of a StreamWriter's results.jsonl (plus `files`). Everything but the pixels.
 */
export interface ResultRecord extends Pick<SegmentResult, 'width' | 'height' | 'score' | 'found' | 'notFoundReason' | 'bbox' | 'area' | 'anchor' | 'timings'> {
  /** Results before this one (a host counts across the streams it runs): a gap means results were missed. */
  seq: number;
  /** Position of the frame among the frames received, counting dropped ones. */
  frameIndex: number;
  frameId: string | null;
  stamp: Stamp | null;
  /** The goal this result answers, and its words the model does not know (read as the unknown token). */
  goal: string;
  unknownWords: string[];
  /** The mask as COCO compressed RLE (pycocotools' `counts`, column-major). */
  rle: Rle;
  bank: BankInfo;
  /** From the frame's arrival to this result, waiting included. */
  latencyMs: number;
  /** Frames dropped so far (`StreamCounters.dropped`). */
  dropped: number;
}

export function resultRecord(r: StreamResult): ResultRecord {
  return {
    seq: r.seq,
    frameIndex: r.frameIndex,
    frameId: r.frameId ?? null,
    stamp: r.stamp ?? null,
    goal: r.goalText,
    unknownWords: [...r.goal.unknown],
    width: r.width,
    height: r.height,
    score: r.score,
    found: r.found,
    notFoundReason: r.notFoundReason,
    bbox: r.bbox,
    area: r.area,
    anchor: r.anchor,
    rle: rleEncode(r.mask, r.width, r.height),
    timings: r.timings,
    bank: r.bank,
    latencyMs: r.latencyMs,
    dropped: r.dropped,
  };
}

/** What a host does with frames pushed now. */
export type HostState = 'running' | 'paused' | 'waiting-for-goal' | 'source-ended';

export interface StreamHostOptions {
  /** The goal to start with; without one, frames are dropped (counted) until `setGoal()`. Checked when a run starts. */
  goal?: string;
  /** Start paused. */
  paused?: boolean;
  /**
   * `latest` (default, cameras): a frame pushed while the pipeline is busy replaces the waiting
   * one, and frames pushed while paused or without a goal are dropped. `none` (offline): every
   * frame is segmented; producers wait for `space()` (a local source is read only as frames are
   * taken).
   */
  drop?: DropMode;
  /** When the reasoner runs besides goal changes (default: adaptive). */
  reason?: ReasonOptions;
  /** Frames from this process (an image folder, a camera driver): read only while the host segments. */
  source?: FrameSource;
  /** After a segmentation failure, start a new stream after this many ms (0: at once). Without it a failure ends `run()` with its error. */
  restartMs?: number;
  /** Aborting closes the host. */
  signal?: AbortSignal;
}

/** What a host needs of its segmenter (a `Segmenter` is one; the interface keeps stream/ below it). */
export interface HostSegmenter {
  tokenize(text: string): Goal;
  stream(source: FrameSource, options?: StreamOptions): SegmentStream;
}

export interface HostHandlers {
  /** Each result in order, with the host's `seq` and `dropped`; a returned promise is awaited before the next. Throwing counts as a failure. */
  onResult(r: StreamResult): void | Promise<void>;
  /** A stream failed; with `restartMs` a new one starts after that pause. */
  onFailure?(err: unknown): void;
}

/**
 * What a viewer needs of a running front end (the stream host itself, or the ZeroMQ server's or
 * ROS 2 node's `tap()`): the results as they come, the counters and rate, the goal and a way to
 * change it the way that front end's own goal input does.
 */
export interface StreamTap {
  readonly goal: string | undefined;
  readonly counters: StreamCounters;
  /** Results per second since the first result. */
  readonly fps: number;
  /** Throws ERR_GOAL_* for an unusable goal and keeps the old one. */
  setGoal(text: string): unknown;
  /** Calls `listener` with each result after the front end handled it; returns the function that stops it. */
  watch(listener: ResultListener): () => void;
}

/** Called on the result path: it must return at once (keep a reference, do the work elsewhere). */
export type ResultListener = (r: StreamResult) => void;

const OPTION_KEYS = ['goal', 'paused', 'drop', 'reason', 'source', 'restartMs', 'signal'];
const DROP_MODES: readonly DropMode[] = ['latest', 'none'];

/** Validates host options (front ends check theirs before loading a model): known keys, types, modes, the policy. */
export function checkHostOptions(options: StreamHostOptions | undefined): StreamHostOptions & { drop: DropMode } {
  const o = checkBag(options, 'options', OPTION_KEYS) as StreamHostOptions;
  if (o.goal !== undefined && typeof o.goal !== 'string') throw invalidArg('options.goal', 'a string', o.goal, 'ERR_GOAL_INVALID');
  if (o.paused !== undefined && typeof o.paused !== 'boolean') throw invalidArg('options.paused', 'a boolean', o.paused);
  if (o.drop !== undefined && !DROP_MODES.includes(o.drop)) throw invalidArg('options.drop', `one of ${DROP_MODES.join(', ')}`, o.drop);
  if (o.source !== undefined) checkSource(o.source, 'options.source');
  const { restartMs } = o;
  if (restartMs !== undefined && !(typeof restartMs === 'number' && restartMs >= 0 && Number.isFinite(restartMs))) throw invalidArg('options.restartMs', 'a number >= 0', restartMs);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArg('options.signal', 'an AbortSignal', o.signal);
  return { ...o, drop: o.drop ?? 'latest', ...(o.reason !== undefined && { reason: checkReasonOptions(o.reason) }) };
}

/**
 * The stream host: what the ZeroMQ server, the ROS 2 node and the CLI share. It owns the standing
 * goal, pause and resume, one push intake (latest frame wins or every frame), the reasoning
 * policy, restarts after a failure, the counters and the result record; a front end pushes the
 * frames its transport receives (`push()`), or gives the host a local `source`, and encodes the
 * results `run()` hands it (`resultRecord()`). The host runs a Segmenter's stream over its intake:
 * one open stream per Segmenter still holds.
 */
export class StreamHost implements StreamTap {
  readonly #drop: DropMode;
  readonly #reason: ReasonOptions | undefined;
  readonly #restartMs: number | undefined;
  readonly #feed: Feed;
  readonly #source: AsyncIterator<Frame> | Iterator<Frame> | undefined;
  #goalText: string | undefined;
  /** The goal as the attached segmenter read it (undefined when set while none was attached). */
  #goal: Goal | undefined;
  #paused: boolean;
  /** Attached by run(), detached by stop(). */
  #seg: HostSegmenter | undefined;
  #stream: SegmentStream | undefined;
  #run: Promise<void> | undefined;
  #stop: AbortController | undefined;
  #pump: Promise<void> | undefined;
  #sourceEnded = false;
  #closing: Promise<void> | undefined;
  #received = 0;
  /** Refused at push, and by streams that have ended. */
  #invalid = 0;
  #results = 0;
  #failures = 0;
  /** Frames streams took and never finished (they ended first): dropped. */
  #lost = 0;
  readonly #banks = Object.fromEntries(BANK_REASONS.map((r) => [r, 0])) as Record<BankReason, number>;
  #firstResultAt = 0;
  readonly #listeners = new Set<ResultListener>();

  constructor(options: StreamHostOptions = {}) {
    const o = checkHostOptions(options);
    this.#drop = o.drop;
    this.#reason = o.reason;
    this.#restartMs = o.restartMs;
    this.#source = o.source === undefined ? undefined : iteratorOf(o.source);
    this.#goalText = o.goal;
    this.#paused = o.paused ?? false;
    this.#feed = new Feed();
    const signal = o.signal;
    if (signal?.aborted) void this.close();
    else signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  get state(): HostState {
    if (this.#sourceEnded) return 'source-ended';
    if (this.#goalText === undefined) return 'waiting-for-goal';
    return this.#paused ? 'paused' : 'running';
  }

  /** A run is in progress (between `run()` and its end, restarts included). */
  get running(): boolean {
    return this.#run !== undefined;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The standing goal's text. */
  get goal(): string | undefined {
    return this.#goalText;
  }

  /** The goal's words the model does not know (known once a segmenter has read the goal). */
  get unknownWords(): string[] {
    return [...(this.#goal?.unknown ?? [])];
  }

  get counters(): StreamCounters {
    const cur = this.#stream?.stats();
    const banksByReason = { ...this.#banks };
    if (cur) for (const r of BANK_REASONS) banksByReason[r] += cur.banksByReason[r];
    return {
      received: this.#received,
      invalid: this.#invalid + (cur?.invalid ?? 0),
      dropped: this.#dropped(cur),
      results: this.#results,
      failures: this.#failures,
      banks: Object.values(banksByReason).reduce((a, b) => a + b, 0),
      banksByReason,
    };
  }

  /** Results per second since the first result. */
  get fps(): number {
    const elapsed = this.#results > 1 ? performance.now() - this.#firstResultAt : 0;
    return elapsed > 0 ? ((this.#results - 1) * 1000) / elapsed : 0;
  }

  /**
   * Segments `text` in frames pushed from now on (the first gets a fresh query bank). While a
   * segmenter is attached (a run started) the goal is checked and returned as it reads it:
   * ERR_GOAL_* for an unusable one, and the old goal stays. Otherwise it is checked when a run starts.
   */
  setGoal(text: string): Goal | undefined {
    this.#checkOpen();
    if (typeof text !== 'string') throw invalidArg('goal', 'a string', text, 'ERR_GOAL_INVALID');
    const goal = this.#seg?.tokenize(text);
    if (this.#stream && !this.#stream.closed) this.#stream.setGoal(text);
    this.#goalText = text;
    this.#goal = goal;
    this.#gate();
    return goal;
  }

  /** Stops segmenting: frames pushed meanwhile are dropped (counted); a local source is not read. */
  pause(): void {
    this.#checkOpen();
    this.#paused = true;
    this.#gate();
  }

  resume(): void {
    this.#checkOpen();
    this.#paused = false;
    this.#gate();
  }

  /**
   * Offers one frame, or a function that decodes one from a transport's message: counted as
   * received; one that fails validation is counted as invalid and its error returned (for the
   * front end to report); otherwise it is queued by the drop mode, or dropped (counted) while the
   * host is paused, has no goal or is not running.
   */
  push(frame: Frame | (() => Frame)): Error | undefined {
    const index = this.#received++;
    let valid: Frame;
    try {
      valid = validateFrame(typeof frame === 'function' ? frame() : frame);
    } catch (err) {
      this.#invalid++;
      return err instanceof Error ? err : new Error(String(err));
    }
    this.#feed.put({ frame: valid, index, arrivedAt: performance.now() });
    return undefined;
  }

  /**
   * Drop `none`: resolves once a frame pushed now waits its turn instead of being dropped (the
   * host segments and no frame is waiting), or the host closed. A producer that awaits it before
   * each push gets back-pressure. Drop `latest`: at once (the newest frame wins; producers never wait).
   */
  space(): Promise<void> {
    return this.#drop === 'none' ? this.#feed.space() : Promise.resolve();
  }

  /**
   * Runs `seg`'s stream over the host's frames, handing each result to `handlers.onResult`, until
   * `stop()` or `close()`, or until the local source ends. After a failure the stream is restarted
   * (`restartMs`) or the returned promise rejects with the error. Throws at once (ERR_BUSY, ERR_GOAL_*)
   * when the host already runs (or is still stopping), the segmenter has another stream open, or
   * cannot read the goal. On a closed host it resolves at once.
   */
  run(seg: HostSegmenter, handlers: HostHandlers): Promise<void> {
    if (this.#closing) return Promise.resolve();
    if (this.#run) throw new AnchorSegError('ERR_BUSY', 'Expected one run of a StreamHost at a time but it is running (stop() it first)');
    const goal = this.#goalText === undefined ? undefined : seg.tokenize(this.#goalText);
    const first = this.#open(seg);
    this.#seg = seg;
    this.#goal = goal;
    const stop = (this.#stop = new AbortController());
    this.#run = this.#loop(seg, first, handlers, stop.signal).finally(() => {
      this.#run = undefined;
      this.#gate();
    });
    this.#gate();
    if (this.#source) this.#pump ??= this.#pumpSource(this.#source);
    return this.#run;
  }

  /**
   * Calls `listener` with each result after `onResult` (a viewer beside the front end). It runs on
   * the result path, so it must return at once; one that throws is removed (with a process
   * warning) rather than failing the stream. Returns the function that removes it.
   */
  watch(listener: ResultListener): () => void {
    if (typeof listener !== 'function') throw invalidArg('listener', 'a function', listener);
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** This host as a viewer sees it, its goal set through `setGoal` (a front end's own goal input; default the host's). */
  tap(setGoal: (text: string) => unknown = (text) => this.setGoal(text)): StreamTap {
    const host = this;
    return {
      get goal() {
        return host.goal;
      },
      get counters() {
        return host.counters;
      },
      get fps() {
        return host.fps;
      },
      setGoal,
      watch: (listener) => host.watch(listener),
    };
  }

  /** Ends the current run (its stream is closed, results in flight are not delivered) and detaches its segmenter; frames pushed meanwhile are dropped. */
  async stop(): Promise<void> {
    const run = this.#run;
    this.#seg = undefined;
    if (!run) return;
    this.#stop!.abort(new Error('stream host stopped'));
    this.#gate();
    await this.#stream?.close();
    await run.catch(() => undefined);
  }

  /** Stops the run, drops the waiting frame, releases the local source; refuses further calls. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#feed.end();
      this.#feed.discard();
      if (this.#source) release(this.#source);
      await this.stop();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #loop(seg: HostSegmenter, first: SegmentStream, h: HostHandlers, stop: AbortSignal): Promise<void> {
    for (let stream = first; ; stream = this.#open(seg)) {
      let failure: unknown;
      try {
        for await (const r of stream) {
          const delivered = this.#deliver(r);
          await h.onResult(delivered);
          this.#notify(delivered);
        }
        return; // the local source ended, or stop() / close()
      } catch (err) {
        if (stop.aborted) return;
        failure = err;
        this.#failures++;
      } finally {
        await stream.close();
        this.#fold(stream);
      }
      if (this.#restartMs === undefined) throw failure;
      h.onFailure?.(failure);
      if (this.#feed.ended) return; // the local source ended (with this error): nothing to restart on
      await sleep(this.#restartMs, undefined, { signal: stop }).catch(() => undefined);
      if (stop.aborted) return;
    }
  }

  #open(seg: HostSegmenter): SegmentStream {
    const goal = this.#goalText;
    this.#stream = seg.stream(this.#feed, { ...(this.#reason && { reason: this.#reason }), ...(goal !== undefined && { goal }) });
    return this.#stream;
  }

  /** The host's numbering on a stream's result: `seq` and `dropped` count across streams. */
  #deliver(r: StreamResult): StreamResult {
    const seq = this.#results++;
    if (seq === 0) this.#firstResultAt = performance.now();
    return { ...r, seq, dropped: this.#dropped(this.#stream?.stats()) };
  }

  #notify(r: StreamResult): void {
    for (const listener of this.#listeners) {
      try {
        listener(r);
      } catch (err) {
        this.#listeners.delete(listener);
        process.emitWarning(`StreamHost: a result listener threw and was removed: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  }

  /** An ended stream's counts become the host's: frames it took and never finished are dropped. */
  #fold(stream: SegmentStream): void {
    const s = stream.stats();
    this.#invalid += s.invalid;
    for (const r of BANK_REASONS) this.#banks[r] += s.banksByReason[r];
    this.#lost += this.#feed.detach() - s.results - s.invalid;
    if (this.#stream === stream) this.#stream = undefined;
  }

  /** The feed's drops, frames lost with ended streams, and the current stream's skipped frames (taken without a goal). */
  #dropped(cur: { dropped: number } | undefined): number {
    return this.#feed.dropped + this.#lost + (cur?.dropped ?? 0);
  }

  /** The local source, read while the host segments (in drop `none`, only when the waiting frame was taken). */
  async #pumpSource(it: AsyncIterator<Frame> | Iterator<Frame>): Promise<void> {
    try {
      for (;;) {
        if (this.#drop === 'none') await this.#feed.space();
        else await this.#feed.opened();
        if (this.#feed.ended) return; // closed
        const r = await it.next();
        if (r.done) break;
        this.push(r.value);
        // A source that never waits (an array, a generator over memory) must not starve the
        // event loop, where engine results arrive.
        if (this.#drop === 'latest') await nextTurn();
      }
      this.#sourceEnded = true;
      this.#feed.end();
    } catch (err) {
      this.#sourceEnded = true;
      this.#feed.end(err);
    }
  }

  /** Open while a run is in progress, a goal is set and the host is not paused. */
  #gate(): void {
    const running = this.#run !== undefined && !this.#stop!.signal.aborted;
    const open = running && this.#goalText !== undefined && !this.#paused;
    this.#feed.setOpen(open);
    // A waiting frame would be stale when segmenting resumes; in drop `none` an accepted frame is still segmented.
    if (!open && (this.#drop === 'latest' || !running)) this.#feed.discard();
  }

  #checkOpen(): void {
    if (this.#closing) throw disposedError('StreamHost');
  }
}

interface FeedView extends Intake {
  taken: number;
}

/**
 * The host's one push intake: at most one frame waits for the stream (a stream taking frames is
 * handed the next one directly). Each stream the host runs takes frames through a view of its own,
 * whose close does not end the feed (a restarted stream goes on with it). Drops are counted here,
 * not by the streams.
 */
class Feed implements AsyncIterable<Frame>, IntakeMaker {
  #open = false;
  #slot: Taken | undefined;
  #taker: ((t: Taken | undefined) => void) | undefined;
  #waiters: (() => void)[] = [];
  #dropped = 0;
  #ended = false;
  #error: unknown;
  #view: FeedView | undefined;

  get dropped(): number {
    return this.#dropped;
  }

  /** No frame will come any more: the local source ended, or the host closed. */
  get ended(): boolean {
    return this.#ended;
  }

  setOpen(open: boolean): void {
    this.#open = open && !this.#ended;
    this.#wake();
  }

  put(t: Taken): void {
    if (!this.#open) {
      this.#dropped++;
      return;
    }
    if (this.#taker) {
      const give = this.#taker;
      this.#taker = undefined;
      give(t);
      return;
    }
    if (this.#slot) this.#dropped++;
    this.#slot = t;
  }

  /** Drops the waiting frame, if any. */
  discard(): void {
    if (!this.#slot) return;
    this.#slot = undefined;
    this.#dropped++;
    this.#wake();
  }

  /** No more frames: the waiting one is still taken, then takers get the end (or `error`). */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#open = false;
    const give = this.#taker;
    this.#taker = undefined;
    give?.(undefined);
    this.#wake();
  }

  /** Resolves once the feed is open or ended. */
  async opened(): Promise<void> {
    while (!this.#open && !this.#ended) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves once the feed is open with no frame waiting, or ended. */
  async space(): Promise<void> {
    while (!(this.#open && !this.#slot) && !this.#ended) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  [OWN_INTAKE](): Intake {
    const take = (signal: AbortSignal) => this.#take(signal);
    const feed = this;
    const view: FeedView = {
      taken: 0,
      dropped: 0,
      get held() {
        return feed.#slot ? 1 : 0;
      },
      async take(signal) {
        const t = await take(signal);
        if (t) view.taken++;
        return t;
      },
      close() {}, // the feed goes on for the next stream
    };
    this.#view = view;
    return view;
  }

  /** Frames the last stream took (0 if it never started); forgets its view. */
  detach(): number {
    const taken = this.#view?.taken ?? 0;
    this.#view = undefined;
    return taken;
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    const signal = new AbortController().signal;
    return {
      next: async () => {
        const t = await this.#take(signal);
        return t ? { value: t.frame, done: false } : { value: undefined, done: true };
      },
    };
  }

  async #take(signal: AbortSignal): Promise<Taken | undefined> {
    if (signal.aborted) throw abortError(signal);
    const t = this.#slot;
    if (t) {
      this.#slot = undefined;
      this.#wake();
      return t;
    }
    if (this.#ended) {
      if (this.#error !== undefined) throw this.#error;
      return undefined;
    }
    const given = await new Promise<Taken | undefined>((resolve, reject) => {
      const onAbort = () => {
        if (this.#taker === give) this.#taker = undefined;
        reject(abortError(signal));
      };
      const give = (taken: Taken | undefined) => {
        signal.removeEventListener('abort', onAbort);
        resolve(taken);
      };
      this.#taker = give;
      signal.addEventListener('abort', onAbort, { once: true });
      this.#wake(); // a waiting taker is room for a frame (drop `none`)
    });
    if (!given && this.#error !== undefined) throw this.#error;
    return given;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
