import type { Frame } from '../sdk/frame.js';

/**
 * Frames pushed by a subscription callback, read by `Segmenter.stream()` as its source. The
 * stream's intake asks for the next frame as soon as it took one, so a frame rarely waits here;
 * one that is replaced before it was asked for is dropped and counted (latest frame wins).
 */
export class FrameFeed implements AsyncIterable<Frame> {
  #pending: Frame | undefined;
  #waiter: ((r: IteratorResult<Frame>) => void) | undefined;
  #ended = false;
  #dropped = 0;

  /** Frames replaced here before the stream asked for them. */
  get dropped(): number {
    return this.#dropped;
  }

  push(frame: Frame): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const wake = this.#waiter;
      this.#waiter = undefined;
      wake({ done: false, value: frame });
      return;
    }
    if (this.#pending) this.#dropped++;
    this.#pending = frame;
  }

  /** Ends the iteration: the stream's pending read resolves done. */
  end(): void {
    this.#ended = true;
    this.#pending = undefined;
    this.#waiter?.({ done: true, value: undefined });
    this.#waiter = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    return {
      next: () => {
        if (this.#pending) {
          const value = this.#pending;
          this.#pending = undefined;
          return Promise.resolve({ done: false, value });
        }
        if (this.#ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => {
          this.#waiter = resolve;
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
