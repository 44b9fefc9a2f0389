import { AnchorSegError, abortError } from './errors.js';

/**
 * One-at-a-time access to an engine: callers wait their turn in order, may leave the queue by
 * aborting, and are refused with ERR_DISPOSED once the lane is closed.
 */
export class Lane {
  readonly #name: string;
  #busy = false;
  #closed = false;
  readonly #waiters: { grant: () => void; refuse: (err: Error) => void }[] = [];
  #idle: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(name: string) {
    this.#name = name;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw this.#disposed();
    if (signal?.aborted) throw abortError(signal);
    if (!this.#busy) {
      this.#busy = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(abortError(signal!));
      };
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        refuse: (err: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) {
      next.grant();
      return;
    }
    this.#busy = false;
    this.#idle?.resolve();
    this.#idle = undefined;
  }

  /** Refuses everyone waiting and later callers; resolves once the current holder has released. */
  close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.refuse(this.#disposed());
    if (!this.#busy) return Promise.resolve();
    if (!this.#idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  #disposed(): AnchorSegError {
    return new AnchorSegError('ERR_DISPOSED', `Segmenter is closed (${this.#name} engine)`);
  }
}

/**
 * Settles like `work`, or rejects with ERR_ABORTED as soon as `signal` aborts. The work itself
 * keeps running to its end (an engine run cannot be interrupted); its result is dropped.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(abortError(signal));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
