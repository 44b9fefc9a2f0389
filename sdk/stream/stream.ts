import { performance } from 'node:perf_hooks';
import { AnchorSegError, invalidArg } from '../base/errors.js';
import type { Frame } from '../base/frame.js';
import type { SegmentResult } from '../model/result.js';
import type { CallOptions, ImageState, QueryBank } from '../model/states.js';
import type { Goal } from '../model/tokenizer.js';
import { checkSource, openIntake, type DropMode, type FrameSource, type Intake, type Taken } from './intake.js';
import { BANK_REASONS, DEFAULT_REASON, ReasonPolicy, checkBag, type BankReason, type ReasonOptions } from './policy.js';

export interface StreamOptions {
  /** The goal to start with; without one, frames are skipped (counted as dropped) until `setGoal()`. */
  goal?: string;
  /** Default `latest` (camera: latest frame wins); `none` processes every frame (offline). */
  drop?: DropMode;
  /** When the reasoner runs besides goal changes (default: adaptive). */
  reason?: ReasonOptions;
  /** Aborting ends the iteration like `close()`. */
  signal?: AbortSignal;
}

/** Which query bank a result was decoded with. */
export interface BankInfo {
  /** Counts up from 1 per stream. */
  id: number;
  /** Results decoded with this bank before this one (0: made on this frame). */
  ageFrames: number;
  /** Time between the bank's frame and this one: by stamps where both have one, else by arrival. */
  ageMs: number;
  reason: BankReason;
}

export interface StreamResult extends SegmentResult {
  /** The frame this result is for (not copied). */
  frame: Frame;
  /** Results before this one: counts from 0 (a stream host counts across the streams it runs). */
  seq: number;
  /** Position of the frame in the source, counting dropped frames. */
  frameIndex: number;
  /** Frames dropped so far (`StreamCounters.dropped`). */
  dropped: number;
  /** The goal text this result answers. */
  goalText: string;
  bank: BankInfo;
  /** From the frame's arrival to this result, waiting included. */
  latencyMs: number;
}

/**
 * What a stream (and a stream host, and the ZeroMQ and ROS 2 front ends on it) counts; one set of
 * names everywhere. Every frame received is invalid, dropped, a result, or still held.
 */
export interface StreamCounters {
  /** Frames offered: read from the source, or pushed into a host (invalid ones included). */
  received: number;
  /** Frames refused by validation or preprocessing (ERR_FRAME_INVALID, or a message that is not a frame): skipped, the stream goes on. */
  invalid: number;
  /**
   * Frames accepted but never segmented: replaced by a newer one while the pipeline was busy
   * (latest frame wins), arrived without a goal or while paused, or held by a stream that failed.
   */
  dropped: number;
  /** Results delivered. */
  results: number;
  /** Segmentation failures (each ends a stream; a host restarts it where configured). */
  failures: number;
  /** Query banks made (reasoner runs). */
  banks: number;
  banksByReason: Record<BankReason, number>;
}

export interface StreamStats extends StreamCounters {
  state: 'idle' | 'running' | 'closed';
  /** Frames the stream holds between source and consumer: waiting to be taken, in vision, in reasoner/decoder (at most 3). */
  held: number;
  /** Results per second since the first result. */
  fps: number;
  goal: string | undefined;
  lastError: string | undefined;
}

interface GoalState {
  goal: Goal;
  /** Bumped by every setGoal(): a frame that arrives after it needs a bank of its own. */
  epoch: number;
  /** `performance.now()` when it was set: it applies to frames that arrive later. */
  at: number;
}

/** A frame after the vision stage, with the goal that was current when it arrived. */
interface Encoded extends Taken {
  image: ImageState;
  goal: GoalState;
}

interface BankState {
  id: number;
  bank: QueryBank;
  epoch: number;
  reason: BankReason;
  uses: number;
  stampMs: number | undefined;
  arrivedAt: number;
}

const MAX_GOAL_HISTORY = 8;
const DROP_MODES: readonly DropMode[] = ['latest', 'none'];

/** What a stream needs of its segmenter (a `Segmenter` is one; the interface keeps stream/ below it). */
export interface StreamSegmenter {
  tokenize(text: string): Goal;
  encodeImage(frame: Frame, options?: CallOptions): Promise<ImageState>;
  reason(image: ImageState, goal: Goal, options?: CallOptions): Promise<QueryBank>;
  decode(image: ImageState, bank: QueryBank, options?: CallOptions): Promise<SegmentResult>;
}

/**
 * Segmentation of a stream of frames while the goal may change: an async iterable of results,
 * one consumer at a time. The vision stage of the next frame overlaps the reasoner and decoder
 * of the current one; the query bank is remade on goal changes and by the reasoning policy
 * (dual-rate). Made by `Segmenter.stream()`.
 */
export class SegmentStream implements AsyncIterable<StreamResult> {
  readonly #seg: StreamSegmenter;
  readonly #source: FrameSource;
  readonly #drop: DropMode;
  readonly #policy: ReasonPolicy;
  readonly #abort = new AbortController();
  readonly #onUserAbort: (() => void) | undefined;
  readonly #userSignal: AbortSignal | undefined;
  /** The current goal last; older ones stay while a frame that arrived before their successor may still need them. */
  #goals: GoalState[] = [];
  #epoch = 0;
  #state: StreamStats['state'] = 'idle';
  #run: AsyncGenerator<StreamResult, void, undefined> | undefined;
  #closing: Promise<void> | undefined;
  #intake: Intake | undefined;
  #bank: BankState | undefined;
  #bankIds = 0;
  /** Frames taken from the intake (results, skipped, or still in the pipeline). */
  #taken = 0;
  #results = 0;
  #invalid = 0;
  /** Frames taken while no goal was set: skipped, counted as dropped. */
  #waiting = 0;
  #failures = 0;
  #firstResultAt = 0;
  #lastError: string | undefined;
  readonly #banks = Object.fromEntries(BANK_REASONS.map((r) => [r, 0])) as Record<BankReason, number>;

  /** @internal Use `Segmenter.stream()`. `goal` is the segmenter's standing goal, used when options name none. */
  constructor(seg: StreamSegmenter, source: FrameSource, options: StreamOptions | undefined, goal: Goal | undefined) {
    const o = checkBag(options, 'options', ['goal', 'drop', 'reason', 'signal']);
    if (o.drop !== undefined && !DROP_MODES.includes(o.drop as DropMode)) throw invalidArg('options.drop', `one of ${DROP_MODES.join(', ')}`, o.drop);
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArg('options.signal', 'an AbortSignal', o.signal);
    this.#seg = seg;
    this.#source = checkSource(source);
    this.#drop = (o.drop as DropMode | undefined) ?? 'latest';
    this.#policy = new ReasonPolicy((o.reason as ReasonOptions | undefined) ?? DEFAULT_REASON);
    const start = o.goal !== undefined ? seg.tokenize(o.goal as string) : goal;
    if (start) this.#goals.push({ goal: start, epoch: ++this.#epoch, at: -Infinity });
    this.#userSignal = o.signal as AbortSignal | undefined;
    if (this.#userSignal) {
      this.#onUserAbort = () => void this.close();
      if (this.#userSignal.aborted) this.#state = 'closed';
      else this.#userSignal.addEventListener('abort', this.#onUserAbort, { once: true });
    }
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The current goal text (undefined until one is set). */
  get goal(): string | undefined {
    return this.#goals.at(-1)?.goal.text;
  }

  /**
   * Segments `text` in frames that arrive from now on: the first of them gets a fresh query bank
   * (even for the current text: a way to force one); frames that arrived before keep the old
   * goal. Throws ERR_GOAL_* for an unusable goal and keeps the old one.
   */
  setGoal(text: string): void {
    const goal = this.#seg.tokenize(text);
    if (this.closed) throw new AnchorSegError('ERR_DISPOSED', 'SegmentStream is closed');
    this.#goals.push({ goal, epoch: ++this.#epoch, at: performance.now() });
    // Only a frame waiting in the intake can still need an old goal; a burst of setGoal() calls
    // while none arrives must not grow the history without bound.
    if (this.#goals.length > MAX_GOAL_HISTORY) this.#goals.shift();
  }

  stats(): StreamStats {
    const elapsed = this.#results > 1 ? performance.now() - this.#firstResultAt : 0;
    return {
      state: this.#state,
      received: this.#received(),
      invalid: this.#invalid,
      dropped: this.#dropped(),
      results: this.#results,
      failures: this.#failures,
      banks: Object.values(this.#banks).reduce((a, b) => a + b, 0),
      banksByReason: { ...this.#banks },
      held: (this.#intake?.held ?? 0) + this.#taken - this.#results - this.#invalid - this.#waiting,
      fps: elapsed > 0 ? ((this.#results - 1) * 1000) / elapsed : 0,
      goal: this.goal,
      lastError: this.#lastError,
    };
  }

  /** One consumer at a time: a second gets ERR_BUSY. Leaving the loop early closes the stream. */
  [Symbol.asyncIterator](): AsyncIterator<StreamResult> {
    if (this.#state === 'running') throw new AnchorSegError('ERR_BUSY', 'Expected one consumer of this stream but it is already being iterated');
    if (this.#state === 'closed') return { next: async () => ({ done: true, value: undefined }) };
    this.#state = 'running';
    const run = (this.#run = this.#generate());
    return {
      next: () => run.next(),
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /** Ends the iteration (the consumer's pending `next()` resolves done), stops reading the source. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closed';
      this.#userSignal?.removeEventListener('abort', this.#onUserAbort!);
      this.#abort.abort(new Error('stream closed'));
      this.#intake?.close();
      // Queued behind a next() in progress (which the abort ends), or runs the generator's finally now.
      await this.#run?.return(undefined);
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #received(): number {
    const i = this.#intake;
    return i ? this.#taken + i.dropped + i.held : 0;
  }

  #dropped(): number {
    return (this.#intake?.dropped ?? 0) + this.#waiting;
  }

  async *#generate(): AsyncGenerator<StreamResult, void, undefined> {
    const signal = this.#abort.signal;
    const intake = (this.#intake = openIntake(this.#source, this.#drop));
    let next: Promise<Encoded | undefined> | undefined;
    try {
      next = this.#encodeNext(intake, signal);
      for (;;) {
        const cur = await next;
        if (!cur) return;
        // Vision of the next frame runs while the reasoner and decoder work on this one (and
        // while the consumer holds this result: a failure is read when the loop gets there).
        next = this.#encodeNext(intake, signal);
        next.catch(() => undefined);
        yield await this.#segment(cur, signal);
      }
    } catch (err) {
      if (signal.aborted) return;
      this.#failures++;
      this.#lastError = (err as Error)?.message ?? String(err);
      throw err;
    } finally {
      this.#state = 'closed';
      this.#userSignal?.removeEventListener('abort', this.#onUserAbort!);
      intake.close();
    }
  }

  async #encodeNext(intake: Intake, signal: AbortSignal): Promise<Encoded | undefined> {
    for (;;) {
      const taken = await intake.take(signal);
      if (!taken) return undefined;
      const goal = this.#goalAt(taken.arrivedAt);
      this.#taken++;
      if (!goal) {
        this.#waiting++;
        continue;
      }
      try {
        const image = await this.#seg.encodeImage(taken.frame, { signal });
        return { ...taken, image, goal };
      } catch (err) {
        if ((err as AnchorSegError).code !== 'ERR_FRAME_INVALID') throw err;
        this.#invalid++;
        this.#lastError = (err as Error).message;
      }
    }
  }

  /** The goal that was current when a frame arrived; frames arrive in order, so older goals can go. */
  #goalAt(arrivedAt: number): GoalState | undefined {
    let i = this.#goals.length - 1;
    while (i >= 0 && this.#goals[i].at > arrivedAt) i--;
    if (i > 0) this.#goals.splice(0, i);
    return i >= 0 ? this.#goals[0] : undefined;
  }

  async #segment(cur: Encoded, signal: AbortSignal): Promise<StreamResult> {
    const stampMs = cur.frame.stamp && cur.frame.stamp.sec * 1000 + cur.frame.stamp.nanosec / 1e6;
    const ageOf = (b: BankState) => (stampMs !== undefined && b.stampMs !== undefined ? stampMs - b.stampMs : cur.arrivedAt - b.arrivedAt);
    let b = this.#bank;
    const reason = !b || b.epoch !== cur.goal.epoch ? 'goal-change' : this.#policy.due({ frames: b.uses, ageMs: ageOf(b) }, cur.image);
    if (reason) {
      const bank = await this.#seg.reason(cur.image, cur.goal.goal, { signal });
      b = this.#bank = { id: ++this.#bankIds, bank, epoch: cur.goal.epoch, reason, uses: 0, stampMs, arrivedAt: cur.arrivedAt };
      this.#policy.rebased(cur.image);
      this.#banks[reason]++;
    }
    const r = await this.#seg.decode(cur.image, b!.bank, { signal });
    this.#policy.observe(r, b!.uses === 0);
    const bank: BankInfo = { id: b!.id, ageFrames: b!.uses++, ageMs: ageOf(b!), reason: b!.reason };
    const seq = this.#results++;
    if (seq === 0) this.#firstResultAt = performance.now();
    return { ...r, frame: cur.frame, seq, frameIndex: cur.index, dropped: this.#dropped(), goalText: cur.goal.goal.text, bank, latencyMs: performance.now() - cur.arrivedAt };
  }
}
