import type { Frame } from '../frame.js';

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
 * Latest-frame-wins hand-off from a socket's receive loop to the one segmentation loop: at most
 * one frame waits; a newer one replaces it, and frames arriving while the gate is closed are
 * dropped, so the socket is always drained and memory stays flat whatever the producer's rate.
 */
export class FrameInbox implements AsyncIterable<Frame> {
  readonly #gate: Gate;
  #pending: Frame | undefined;
  #taker: ((r: IteratorResult<Frame>) => void) | undefined;
  #dropped = 0;

  constructor(gate: Gate) {
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

  /** Drops the waiting frame (on pause: it would be stale by the time segmentation resumes). */
  discard(): void {
    if (!this.#pending) return;
    this.#pending = undefined;
    this.#dropped++;
  }

  /** Ends the iteration: the consumer's pending `next()` resolves done. */
  end(): void {
    this.discard();
    this.#taker?.({ value: undefined, done: true });
    this.#taker = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return {
      next: () => {
        if (this.#gate.ended) return Promise.resolve({ value: undefined, done: true });
        const frame = this.#pending;
        if (frame) {
          this.#pending = undefined;
          return Promise.resolve({ value: frame, done: false });
        }
        return new Promise((resolve) => (this.#taker = resolve));
      },
    };
  }
}

/** A local source that is read only while the gate is open, so a live source is never read ahead. */
export async function* gatedSource(source: AsyncIterable<Frame> | Iterable<Frame>, gate: Gate): AsyncGenerator<Frame> {
  const it = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<Frame>)[Symbol.iterator]();
  try {
    for (;;) {
      await gate.opened();
      if (gate.ended) return;
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await it.return?.();
  }
}
