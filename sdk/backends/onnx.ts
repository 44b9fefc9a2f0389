import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AnchorSegError, abortError } from '../base/errors.js';
import type { Tensor, TensorInfo } from './tensor.js';
import type { Backend, ChainOptions, ChainResult, Engine, EngineOptions, EngineSet, RunOptions } from './registry.js';

/** Sent to the worker at start (workerData). */
export interface WorkerInit {
  files: string[];
  threads?: number;
}
export type ToWorker = { type: 'run'; id: number; order: number[]; feeds: Record<string, Tensor>; keep?: string[] } | { type: 'cancel' };
export type FromWorker =
  | { type: 'ready'; engines: { inputs: TensorInfo[]; outputs: TensorInfo[] }[] }
  | { type: 'load-error'; file: string; message: string }
  | { type: 'cancelled' }
  | { type: 'result'; id: number; outputs: Record<string, Tensor>[]; ms: number[] }
  | { type: 'run-error'; id: number; message: string };

// Worker threads need JavaScript: under vitest the SDK runs from its .ts source, so the worker
// comes from the compiled twin in dist/ (the test setup builds it).
const WORKER_URL = import.meta.url.endsWith('.ts') ? new URL('../../dist/sdk/backends/onnx-worker.js', import.meta.url) : new URL('./onnx-worker.js', import.meta.url);

/**
 * onnxruntime-node on a worker thread: `InferenceSession.run()` blocks the thread it is called
 * on, so it never runs on the caller's thread. An engine set (a Segmenter's three engines) shares
 * one worker: the sessions stay warm in one thread's caches and a whole frame is one hand-off
 * (`runChain`), where three workers meant three hand-offs and colder caches per frame
 * (`npm run bench -- model` prints what is left: overheadRatio).
 */
export const onnxBackend: Backend = {
  async init() {
    // Loading the binding here surfaces a missing or broken install before any worker starts.
    await import('onnxruntime-node');
  },
  async createEngine(file, options) {
    const host = await OnnxHost.start([file], options);
    return new OnnxEngine(host, 0, true);
  },
  async createEngineSet(files, options) {
    return new OnnxEngineSet(await OnnxHost.start(files, options));
  },
  describe() {
    const require = createRequire(import.meta.url);
    const { version } = require('onnxruntime-node/package.json') as { version: string };
    return { runtime: `onnxruntime-node ${version}`, execution: 'CPU, one worker thread per engine set' };
  },
};

/** The worker and its requests; requests run in the order sent. */
class OnnxHost {
  readonly files: readonly string[];
  readonly engines: Extract<FromWorker, { type: 'ready' }>['engines'];
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: ChainResult) => void; reject: (e: Error) => void }>();
  #nextId = 0;
  #dead: Error | undefined;

  private constructor(worker: Worker, files: readonly string[], ready: Extract<FromWorker, { type: 'ready' }>) {
    this.#worker = worker;
    this.files = files;
    this.engines = ready.engines;
    const what = files.length === 1 ? `Engine ${files[0]}` : `Engines ${files.join(', ')}`;
    worker.on('message', (msg: FromWorker) => this.#onMessage(msg));
    worker.on('error', (err) => this.#fail(new AnchorSegError('ERR_INFERENCE', `${what}: worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.#fail(new AnchorSegError('ERR_INFERENCE', `${what}: worker exited (code ${code})`)));
    // An idle worker must not keep the process alive; a busy one must.
    worker.unref();
  }

  /**
   * Starts the worker and waits until its sessions are loaded. An abort rejects at once with
   * ERR_ABORTED, but the worker is stopped only at a safe point: onnxruntime-node creates a
   * session synchronously inside the worker, and a worker terminated (or a process exiting) in
   * the middle of that dies with "terminate called after throwing an instance of 'Napi::Error'"
   * (the binding cannot throw into a terminating thread), taking the whole process with it. So
   * the worker is told to cancel, finishes the session it is creating, releases what it made and
   * reports back; only then is it terminated. It stays referenced meanwhile, so the process
   * cannot exit under it either.
   */
  static async start(files: readonly string[], options: EngineOptions): Promise<OnnxHost> {
    if (options.signal?.aborted) throw abortError(options.signal);
    // onnxruntime's telemetry matches std::regex patterns against the process's command line as
    // it creates its environment; their recursion overflows the stack on a long command line (a
    // 15,000-character goal, `anchorseg segment` over 2,000 image paths) and the process dies of
    // SIGSEGV. Off unless the user chose otherwise; set here, in the process environment the
    // worker's onnxruntime reads (docs/robustness.md).
    process.env.ORT_DISABLE_TELEMETRY ??= '1';
    const init: WorkerInit = { files: [...files], threads: options.threads };
    const worker = new Worker(WORKER_URL, { workerData: init });
    const ready = await new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
      const detach = () => {
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        options.signal?.removeEventListener('abort', onAbort);
      };
      // Stops the worker once it is idle: after its load settled (ready, load-error, cancelled).
      const stopWhenIdle = () => {
        const stop = (msg: FromWorker) => {
          if (msg.type !== 'ready' && msg.type !== 'load-error' && msg.type !== 'cancelled') return;
          worker.off('message', stop);
          void worker.terminate();
        };
        worker.on('message', stop);
        worker.on('error', () => undefined); // it may still fail on its way out; nobody waits for it
        worker.postMessage({ type: 'cancel' } satisfies ToWorker);
      };
      const onAbort = () => {
        detach();
        stopWhenIdle();
        reject(abortError(options.signal!));
      };
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'ready') {
          detach();
          resolve(msg);
        } else if (msg.type === 'load-error') {
          // The worker posts this after its failed load returned: it is idle, safe to terminate.
          detach();
          void worker.terminate();
          reject(new AnchorSegError('ERR_BUNDLE_INVALID', `Expected ${msg.file} to load as an ONNX model but onnxruntime refused it: ${msg.message}`));
        }
      };
      const onExit = (code: number) => {
        detach();
        reject(new AnchorSegError('ERR_BACKEND_UNAVAILABLE', `onnx worker for ${files.join(', ')} exited during load (code ${code})`));
      };
      const onError = (err: Error) => {
        detach();
        reject(new AnchorSegError('ERR_BACKEND_UNAVAILABLE', `onnx worker for ${files.join(', ')} failed to start: ${err.message}`, { cause: err }));
      };
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    return new OnnxHost(worker, files, ready);
  }

  get dead(): Error | undefined {
    return this.#dead;
  }

  request(order: readonly number[], feeds: Record<string, Tensor>, options: ChainOptions = {}): Promise<ChainResult> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    const transfer = new Set<ArrayBuffer>();
    for (const name of options.transfer ?? []) {
      const data = feeds[name]?.data;
      if (data && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) transfer.add(data.buffer);
    }
    return new Promise<ChainResult>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      try {
        this.#worker.postMessage({ type: 'run', id, order: [...order], feeds, ...(options.keep && { keep: [...options.keep] }) } satisfies ToWorker, [...transfer]);
      } catch (err) {
        this.#settle(id);
        reject(new AnchorSegError('ERR_INFERENCE', `${this.#describe(order)}: cannot send inputs: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  async close(): Promise<void> {
    this.#dead ??= new AnchorSegError('ERR_DISPOSED', `Engines ${this.files.join(', ')} are closed`);
    await this.#worker.terminate();
  }

  #describe(order: readonly number[]): string {
    return order.length === 1 ? `Engine ${this.files[order[0]]}` : `Engines ${order.map((i) => this.files[i]).join(' -> ')}`;
  }

  #onMessage(msg: FromWorker): void {
    if (!('id' in msg)) return;
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#settle(msg.id);
    if (msg.type === 'result') p.resolve({ outputs: msg.outputs, ms: msg.ms });
    else if (msg.type === 'run-error') p.reject(new AnchorSegError('ERR_INFERENCE', msg.message));
  }

  #fail(err: Error): void {
    this.#dead ??= err;
    for (const [id, p] of [...this.#pending]) {
      this.#settle(id);
      p.reject(this.#dead);
    }
  }

  #settle(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
  }
}

class OnnxEngine implements Engine {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly #host: OnnxHost;
  readonly #index: number;
  readonly #ownsHost: boolean;
  #busy = false;
  #closed: Error | undefined;
  /** Settles (never rejects) when the in-flight run ends, so close() can wait for it. */
  #inflight: Promise<unknown> = Promise.resolve();

  constructor(host: OnnxHost, index: number, ownsHost: boolean) {
    this.#host = host;
    this.#index = index;
    this.#ownsHost = ownsHost;
    this.inputs = host.engines[index].inputs;
    this.outputs = host.engines[index].outputs;
  }

  get file(): string {
    return this.#host.files[this.#index];
  }

  /** Marks the engine busy for `work` (a run of it alone, or a chain it is part of). */
  claim(): void {
    const refused = this.#closed ?? this.#host.dead;
    if (refused) throw refused;
    if (this.#busy) throw new AnchorSegError('ERR_BUSY', `Engine ${this.file} is already running an inference (one at a time per engine)`);
    this.#busy = true;
  }

  hold(work: Promise<unknown>): void {
    this.#inflight = work.then(
      () => (this.#busy = false),
      () => (this.#busy = false),
    );
  }

  run(feeds: Record<string, Tensor>, options: RunOptions = {}): Promise<Record<string, Tensor>> {
    try {
      this.claim();
    } catch (err) {
      return Promise.reject(err);
    }
    const work = this.#host.request([this.#index], feeds, options).then((r) => r.outputs[0]);
    this.hold(work);
    return work;
  }

  async close(): Promise<void> {
    await this.#inflight;
    this.#closed ??= new AnchorSegError('ERR_DISPOSED', `Engine ${this.file} is closed`);
    if (this.#ownsHost) await this.#host.close();
  }
}

class OnnxEngineSet implements EngineSet {
  readonly engines: readonly OnnxEngine[];
  readonly #host: OnnxHost;

  constructor(host: OnnxHost) {
    this.#host = host;
    this.engines = host.files.map((_, i) => new OnnxEngine(host, i, false));
  }

  runChain(order: readonly number[], feeds: Record<string, Tensor>, options: ChainOptions = {}): Promise<ChainResult> {
    const claimed: OnnxEngine[] = [];
    try {
      for (const i of order) {
        const engine = this.engines[i];
        if (!engine) throw new AnchorSegError('ERR_INVALID_ARG', `Expected engine indices below ${this.engines.length} but received ${i}`);
        engine.claim();
        claimed.push(engine);
      }
    } catch (err) {
      for (const e of claimed) e.hold(Promise.resolve());
      return Promise.reject(err);
    }
    const work = this.#host.request(order, feeds, options);
    for (const e of claimed) e.hold(work);
    return work;
  }

  async close(): Promise<void> {
    await Promise.all(this.engines.map((e) => e.close()));
    await this.#host.close();
  }
}
