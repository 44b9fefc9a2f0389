import type { Frame } from '../base/frame.js';

/**
 * Open while the server segments (a goal is set, it is not paused), closed otherwise; `end()`
 * releases every waiter for good.
 */
export class Gate {
  #open = false;
  #ended = false;
  #waiters: (() => void)[] = [];

  get open(): boolean {
    return this.#open && !this.#ended;
  }

  get ended(): boolean {
    return this.#ended;
  }

  set(open: boolean): void {
    this.#open = open;
    if (open) this.#wake();
  }

  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** Resolves once the gate is open or ended. */
  async opened(): Promise<void> {
    if (this.open || this.#ended) return;
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/**
 * Hand-off from a producer (a socket's receive loop, a ROS 2 subscription callback) to the
 * segmentation stream. At most one frame waits. Without a gate of its own it is always open.
 * `latest`: the receive loop never waits; a newer frame replaces the waiting one, and frames
 * arriving while the gate is closed are dropped, so the socket is always drained and memory stays
 * flat whatever the producer's rate. `none`: the receive loop waits for `space()`, so frames back
 * up in ZeroMQ's queues and the producer's sends block at its high-water mark (back-pressure).
 */
export class FrameInbox implements AsyncIterable<Frame> {
  readonly #gate: Gate;
  #pending: Frame | undefined;
  #taker: ((r: IteratorResult<Frame>) => void) | undefined;
  #spaceWaiters: (() => void)[] = [];
  #dropped = 0;

  constructor(gate: Gate = openGate()) {
    this.#gate = gate;
  }

  /** Frames received but never handed on. */
  get dropped(): number {
    return this.#dropped;
  }

  put(frame: Frame): void {
    if (!this.#gate.open) {
      this.#dropped++;
      return;
    }
    if (this.#taker) {
      const take = this.#taker;
      this.#taker = undefined;
      take({ value: frame, done: false });
      return;
    }
    if (this.#pending) this.#dropped++;
    this.#pending = frame;
  }

  /** Resolves once a frame put now would be taken without dropping one (or the inbox ended). */
  async space(): Promise<void> {
    for (;;) {
      await this.#gate.opened();
      if (this.#gate.ended || !this.#pending) return;
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
  }

  /** Drops the waiting frame (on pause: it would be stale by the time segmentation resumes). */
  discard(): void {
    if (!this.#pending) return;
    this.#pending = undefined;
    this.#dropped++;
    this.#wakeSpace();
  }

  /** Ends the gate and the iteration: the consumer's pending `next()` resolves done. */
  end(): void {
    this.#gate.end();
    this.discard();
    this.#taker?.({ value: undefined, done: true });
    this.#taker = undefined;
    this.#wakeSpace();
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return {
      next: () => {
        if (this.#gate.ended) return Promise.resolve({ value: undefined, done: true });
        const frame = this.#pending;
        if (frame) {
          this.#pending = undefined;
          this.#wakeSpace();
          return Promise.resolve({ value: frame, done: false });
        }
        // A new taker replaces an abandoned one (a stream that was closed while waiting).
        return new Promise((resolve) => (this.#taker = resolve));
      },
    };
  }

  #wakeSpace(): void {
    for (const w of this.#spaceWaiters.splice(0)) w();
  }
}

function openGate(): Gate {
  const gate = new Gate();
  gate.set(true);
  return gate;
}

/**
 * A local source (an image folder, a camera driver) read only while the gate is open, so a live
 * source is never read ahead. Iterations may stop and start again (a new stream after a failure);
 * the source itself is released by `close()`.
 */
export class GatedSource implements AsyncIterable<Frame> {
  readonly #it: AsyncIterator<Frame> | Iterator<Frame>;
  readonly #gate: Gate;
  #received = 0;
  #ended = false;

  constructor(source: AsyncIterable<Frame> | Iterable<Frame>, gate: Gate) {
    this.#it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    this.#gate = gate;
  }

  /** Frames read from the source. */
  get received(): number {
    return this.#received;
  }

  /** The source has no more frames. */
  get ended(): boolean {
    return this.#ended;
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return {
      next: async () => {
        await this.#gate.opened();
        if (this.#gate.ended || this.#ended) return { value: undefined, done: true };
        const next = await this.#it.next();
        if (next.done) this.#ended = true;
        else this.#received++;
        return next;
      },
    };
  }

  /** Releases the source without waiting for it: a live source may be parked in `next()` until its next frame. */
  close(): void {
    this.#ended = true;
    void Promise.resolve()
      .then(() => this.#it.return?.())
      .catch(() => undefined);
  }
}
