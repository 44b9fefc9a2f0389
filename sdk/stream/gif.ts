import { writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { AnchorSegError, invalidArg } from '../base/errors.js';

export type ToGifWorker = { type: 'frame'; rgb: Uint8Array; width: number; height: number; delay: number } | { type: 'finish' };
export type FromGifWorker = { type: 'done'; bytes: Uint8Array };

// Worker threads need JavaScript: under vitest this module runs from its .ts source, so the worker
// comes from the compiled twin in dist/ (the test setup builds it).
const WORKER_URL = import.meta.url.endsWith('.ts') ? new URL('../../dist/sdk/stream/gif-worker.js', import.meta.url) : new URL('./gif-worker.js', import.meta.url);

/**
 * An animated GIF (looping) built frame by frame on a worker thread, so quantising colours never
 * stalls the caller's event loop; only the compressed bytes are kept. `save()` writes it.
 */
export class GifWriter {
  readonly #worker: Worker;
  readonly #delay: number;
  #frames = 0;
  #failed: Error | undefined;
  #saved = false;

  /** `fps`: playback rate of the animation. */
  constructor(fps: number) {
    if (typeof fps !== 'number' || !(fps > 0) || !Number.isFinite(fps)) throw invalidArg('fps', 'a finite number > 0', fps);
    this.#delay = Math.round(1000 / fps);
    this.#worker = new Worker(WORKER_URL);
    this.#worker.on('error', (err) => (this.#failed = err));
    this.#worker.unref();
  }

  get frames(): number {
    return this.#frames;
  }

  /** Queues one RGB frame (`width * height * 3` bytes, row-major; copied). */
  add(rgb: Uint8Array, width: number, height: number): void {
    if (this.#saved) throw new AnchorSegError('ERR_DISPOSED', 'GifWriter is saved');
    if (!(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) throw invalidArg('rgb', `a Uint8Array of ${width * height * 3} bytes (${width}x${height} RGB)`, rgb);
    const copy = rgb.slice();
    this.#worker.postMessage({ type: 'frame', rgb: copy, width, height, delay: this.#delay } satisfies ToGifWorker, [copy.buffer]);
    this.#frames++;
  }

  /** Waits for the queued frames, writes the animation to `file` and stops the worker. */
  async save(file: string): Promise<void> {
    if (this.#saved) throw new AnchorSegError('ERR_DISPOSED', 'GifWriter is saved');
    this.#saved = true;
    this.#worker.ref();
    try {
      const bytes = await new Promise<Uint8Array>((resolve, reject) => {
        if (this.#failed) return reject(this.#failed);
        this.#worker.once('message', (msg: FromGifWorker) => resolve(msg.bytes));
        this.#worker.once('error', reject);
        this.#worker.postMessage({ type: 'finish' } satisfies ToGifWorker);
      });
      await writeFile(file, bytes);
    } finally {
      await this.#worker.terminate();
    }
  }

  /** Stops the worker without writing anything. */
  async discard(): Promise<void> {
    this.#saved = true;
    await this.#worker.terminate();
  }
}
