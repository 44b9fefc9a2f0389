import { setImmediate as nextTurn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { abortError, invalidArg } from '../base/errors.js';
import type { Frame } from '../base/frame.js';
import { abortable } from '../base/lane.js';

/** Where a stream's frames come from: arrays, generators, camera drivers, ROS 2 or ZeroMQ subscriptions. */
export type FrameSource = AsyncIterable<Frame> | Iterable<Frame>;

/** `latest`: frames that arrive while the pipeline is busy are dropped (camera); `none`: every frame is processed (offline). */
export type DropMode = 'latest' | 'none';

/** A frame as the stream took it from its source. */
export interface Taken {
  frame: Frame;
  /** Position in the source, counting dropped frames. */
  index: number;
  /** `performance.now()` when the frame arrived. */
  arrivedAt: number;
}

/** Hands frames to a stream one at a time, by its drop mode. */
export interface Intake {
  /** The next frame, or undefined once the source has ended. One call at a time. */
  take(signal: AbortSignal): Promise<Taken | undefined>;
  /** Frames replaced by a newer one before the stream took them. */
  readonly dropped: number;
  /** Frames held, waiting to be taken (0 or 1). */
  readonly held: number;
  /** Stops reading the source and lets it clean up (its `return()`); does not wait for it. */
  close(): void;
}

/**
 * A source that makes a stream's intake itself (the stream host's push feed, ./host.ts): the
 * stream then takes frames from it as they are pushed, and the source's own drop rule applies.
 */
export const OWN_INTAKE: unique symbol = Symbol('anchorseg.ownIntake');

export interface IntakeMaker {
  [OWN_INTAKE](): Intake;
}

export function openIntake(source: FrameSource, drop: DropMode): Intake {
  if (OWN_INTAKE in source) return (source as FrameSource & IntakeMaker)[OWN_INTAKE]();
  const it = iteratorOf(source);
  return drop === 'latest' ? new LatestIntake(it) : new PullIntake(it);
}

/** Throws ERR_INVALID_ARG unless `source` is an iterable or async iterable (of frames: each is checked as it is segmented). */
export function checkSource(source: unknown, name = 'source'): FrameSource {
  const s = source as Partial<AsyncIterable<Frame> & Iterable<Frame>> | null;
  if (typeof s?.[Symbol.asyncIterator] === 'function' || (typeof s === 'object' && typeof s?.[Symbol.iterator] === 'function')) return source as FrameSource;
  throw invalidArg(name, 'an iterable or async iterable of frames', source);
}

export function iteratorOf(source: FrameSource): AsyncIterator<Frame> | Iterator<Frame> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}

/** Lets a source clean up (its `return()`) without waiting for it. */
export function release(it: AsyncIterator<Frame> | Iterator<Frame>): void {
  // Fire and forget: a live source may be parked in next() until its next frame arrives.
  void Promise.resolve()
    .then(() => it.return?.())
    .catch(() => undefined);
}

/** Reads the source only when asked: back-pressure, nothing dropped. */
class PullIntake implements Intake {
  readonly #it: AsyncIterator<Frame> | Iterator<Frame>;
  #index = 0;
  #closed = false;
  readonly dropped = 0;
  readonly held = 0;

  constructor(it: AsyncIterator<Frame> | Iterator<Frame>) {
    this.#it = it;
  }

  async take(signal: AbortSignal): Promise<Taken | undefined> {
    if (this.#closed) return undefined;
    const next = Promise.resolve(this.#it.next());
    const r = await abortable(next, signal);
    if (r.done) return undefined;
    return { frame: r.value, index: this.#index++, arrivedAt: performance.now() };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    release(this.#it);
  }
}

/**
 * Reads the source as fast as it delivers into a one-frame slot; a frame still in the slot when
 * the next arrives is dropped and counted (latest frame wins). Memory stays at one frame however
 * far the source runs ahead.
 */
class LatestIntake implements Intake {
  readonly #it: AsyncIterator<Frame> | Iterator<Frame>;
  #slot: Taken | undefined;
  #index = 0;
  #dropped = 0;
  #ended = false;
  #error: unknown;
  #closed = false;
  #wake: (() => void) | undefined;
  #pumping = false;

  constructor(it: AsyncIterator<Frame> | Iterator<Frame>) {
    this.#it = it;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get held(): number {
    return this.#slot ? 1 : 0;
  }

  async take(signal: AbortSignal): Promise<Taken | undefined> {
    if (!this.#pumping) {
      this.#pumping = true;
      void this.#pump();
    }
    while (!this.#slot && !this.#ended && !this.#closed) {
      if (signal.aborted) throw abortError(signal);
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (signal.aborted) throw abortError(signal);
    const taken = this.#slot;
    this.#slot = undefined;
    if (!taken && this.#error !== undefined) throw this.#error;
    return taken;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#slot = undefined;
    release(this.#it);
    this.#wake?.();
  }

  async #pump(): Promise<void> {
    try {
      while (!this.#closed) {
        const r = await this.#it.next();
        if (r.done || this.#closed) break;
        if (this.#slot) this.#dropped++;
        this.#slot = { frame: r.value, index: this.#index++, arrivedAt: performance.now() };
        this.#wake?.();
        // A source that never waits (an array, a generator over memory) must not starve the
        // event loop, where engine results arrive.
        await nextTurn();
      }
    } catch (err) {
      this.#error = err;
    }
    this.#ended = true;
    this.#wake?.();
  }
}
