import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AnchorSegError, abortError } from '../errors.js';
import type { Tensor, TensorInfo } from '../tensor.js';
import type { Backend, Engine, EngineOptions, RunOptions } from './registry.js';

/** Sent to the worker at start (workerData). */
export interface WorkerInit {
  file: string;
  threads?: number;
}
export type ToWorker = { type: 'run'; id: number; feeds: Record<string, Tensor> };
export type FromWorker =
  | { type: 'ready'; inputs: TensorInfo[]; outputs: TensorInfo[] }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, Tensor> }
  | { type: 'run-error'; id: number; message: string };

// Worker threads need JavaScript: under vitest the SDK runs from its .ts source, so the worker
// comes from the compiled twin in dist/ (the test setup builds it).
const WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('../../dist/sdk/backends/onnx-worker.js', import.meta.url)
  : new URL('./onnx-worker.js', import.meta.url);

/**
 * onnxruntime-node, one worker thread per engine: `InferenceSession.run()` blocks the thread it is
 * called on, so it never runs on the caller's thread, and separate engines can run concurrently.
 */
export const onnxBackend: Backend = {
  async init() {
    // Loading the binding here surfaces a missing or broken install before any worker starts.
    await import('onnxruntime-node');
  },
  createEngine: (file, options) => OnnxEngine.create(file, options),
  describe() {
    const require = createRequire(import.meta.url);
    const { version } = require('onnxruntime-node/package.json') as { version: string };
    return { runtime: `onnxruntime-node ${version}`, execution: 'CPU, one worker thread per engine' };
  },
};

class OnnxEngine implements Engine {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly #worker: Worker;
  readonly #file: string;
  #nextId = 0;
  #pending: { id: number; resolve: (v: Record<string, Tensor>) => void; reject: (e: Error) => void } | undefined;
  #dead: Error | undefined;
  /** Settles (never rejects) when the in-flight run ends, so close() can wait for it. */
  #inflight: Promise<unknown> = Promise.resolve();

  private constructor(worker: Worker, file: string, ready: Extract<FromWorker, { type: 'ready' }>) {
    this.#worker = worker;
    this.#file = file;
    this.inputs = ready.inputs;
    this.outputs = ready.outputs;
    worker.on('message', (msg: FromWorker) => this.#onMessage(msg));
    worker.on('error', (err) => this.#fail(new AnchorSegError('ERR_INFERENCE', `Engine ${file}: worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.#fail(new AnchorSegError('ERR_INFERENCE', `Engine ${file}: worker exited (code ${code})`)));
    // An idle worker must not keep the process alive; a busy one must.
    worker.unref();
  }

  static async create(file: string, options: EngineOptions): Promise<OnnxEngine> {
    if (options.signal?.aborted) throw abortError(options.signal);
    const init: WorkerInit = { file, threads: options.threads };
    const worker = new Worker(WORKER_URL, { workerData: init });
    const ready = await new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
      const onAbort = () => finish(abortError(options.signal!));
      const finish = (err?: Error, msg?: Extract<FromWorker, { type: 'ready' }>) => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        options.signal?.removeEventListener('abort', onAbort);
        if (err) {
          void worker.terminate();
          reject(err);
        } else resolve(msg!);
      };
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'ready') finish(undefined, msg);
        else if (msg.type === 'load-error') finish(new AnchorSegError('ERR_BUNDLE_INVALID', `Expected ${file} to load as an ONNX model but onnxruntime refused it: ${msg.message}`));
      };
      const onExit = (code: number) => finish(new AnchorSegError('ERR_BACKEND_UNAVAILABLE', `onnx worker for ${file} exited during load (code ${code})`));
      const onError = (err: Error) => finish(new AnchorSegError('ERR_BACKEND_UNAVAILABLE', `onnx worker for ${file} failed to start: ${err.message}`, { cause: err }));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    return new OnnxEngine(worker, file, ready);
  }

  run(feeds: Record<string, Tensor>, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    if (this.#dead) return Promise.reject(this.#dead);
    if (this.#pending) return Promise.reject(new AnchorSegError('ERR_BUSY', `Engine ${this.#file} is already running an inference (one at a time per engine)`));
    const id = this.#nextId++;
    const transfer = new Set<ArrayBuffer>();
    for (const name of options.transfer ?? []) {
      const data = feeds[name]?.data;
      if (data && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) transfer.add(data.buffer);
    }
    const result = new Promise<Record<string, Tensor>>((resolve, reject) => {
      this.#pending = { id, resolve, reject };
      this.#worker.ref();
      try {
        this.#worker.postMessage({ type: 'run', id, feeds } satisfies ToWorker, [...transfer]);
      } catch (err) {
        this.#settle();
        reject(new AnchorSegError('ERR_INFERENCE', `Engine ${this.#file}: cannot send inputs: ${(err as Error).message}`, { cause: err }));
      }
    });
    this.#inflight = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.#inflight;
    this.#dead ??= new AnchorSegError('ERR_DISPOSED', `Engine ${this.#file} is closed`);
    await this.#worker.terminate();
  }

  #onMessage(msg: FromWorker): void {
    const p = this.#pending;
    if (!p || !('id' in msg) || msg.id !== p.id) return;
    this.#settle();
    if (msg.type === 'result') p.resolve(msg.outputs);
    else if (msg.type === 'run-error') p.reject(new AnchorSegError('ERR_INFERENCE', `Engine ${this.#file}: ${msg.message}`));
  }

  #fail(err: Error): void {
    this.#dead ??= err;
    const p = this.#pending;
    this.#settle();
    p?.reject(this.#dead);
  }

  #settle(): void {
    this.#pending = undefined;
    this.#worker.unref();
  }
}
