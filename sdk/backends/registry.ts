import { AnchorSegError, invalidArg } from '../base/errors.js';
import type { Tensor, TensorInfo } from './tensor.js';

export interface EngineOptions {
  /** Threads for the engine's own operator pool (ONNX Runtime's intraOpNumThreads). */
  threads?: number;
  /**
   * The largest size of a dynamic input dimension (the bundle's tokenizer.maxTokens: the goal
   * length). A backend that builds for a shape range (TensorRT) builds for 1..this.
   */
  dynamicMax?: number;
  signal?: AbortSignal;
}

export interface RunOptions {
  /** Feeds whose buffers the engine may take over (they are detached afterwards); others are copied. */
  transfer?: readonly string[];
}

/**
 * One loaded model. `run` never blocks the calling thread, and an engine runs one inference at a
 * time: a second `run` while one is in flight is refused with ERR_BUSY rather than queued.
 */
export interface Engine {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  run(feeds: Record<string, Tensor>, options?: RunOptions): Promise<Record<string, Tensor>>;
  /** Waits for an in-flight run, then frees the engine. */
  close(): Promise<void>;
}

export interface ChainOptions extends RunOptions {
  /** Outputs to hand back, by name (default: every run's outputs); the rest stay on the engines' thread. */
  keep?: readonly string[];
}

export interface ChainResult {
  /** Each run's outputs, in the order run. */
  outputs: Record<string, Tensor>[];
  /** Each run's own time, ms, measured where it ran. */
  ms: number[];
}

/** Engines that share one thread and can run back to back in one hand-off. */
export interface EngineSet {
  readonly engines: readonly Engine[];
  /**
   * Runs `engines[order[0]]`, `engines[order[1]]`, ... in one hand-off, each fed by input name
   * from `feeds` and the outputs of the runs before it. Every engine in `order` counts as running
   * meanwhile (ERR_BUSY for another run of it).
   */
  runChain(order: readonly number[], feeds: Record<string, Tensor>, options?: ChainOptions): Promise<ChainResult>;
  /** Waits for runs in flight, then frees every engine. */
  close(): Promise<void>;
}

/** The contract a backend implements (onnxruntime-common style): lazy init, then engines from ONNX files. */
export interface Backend {
  /** Called once, on first use; a rejection makes resolution fall through to the next backend. */
  init(): Promise<void>;
  createEngine(onnxFile: string, options: EngineOptions): Promise<Engine>;
  /** Optional: the engines of one pipeline together, when the backend gains from keeping them on one thread. */
  createEngineSet?(onnxFiles: readonly string[], options: EngineOptions): Promise<EngineSet>;
  /** Versions and settings worth printing in `anchorseg info`. */
  describe(): Record<string, string>;
}

interface Entry {
  backend: Backend;
  priority: number;
  init?: Promise<void>;
}

const registry = new Map<string, Entry>();

/** Registers (or replaces) a backend; without hints, higher priority is tried first. */
export function registerBackend(name: string, backend: Backend, priority: number): void {
  if (typeof name !== 'string' || name.length === 0) throw invalidArg('name', 'a non-empty string', name);
  if (typeof backend?.init !== 'function' || typeof backend.createEngine !== 'function') throw invalidArg('backend', 'an object with init() and createEngine()', backend);
  if (!Number.isFinite(priority)) throw invalidArg('priority', 'a finite number', priority);
  registry.set(name, { backend, priority });
}

/** Registered backends, highest priority first. */
export function listBackends(): { name: string; priority: number; backend: Backend }[] {
  return [...registry].map(([name, e]) => ({ name, priority: e.priority, backend: e.backend })).sort((a, b) => b.priority - a.priority);
}

/**
 * The first backend of `hints` (or of all, by priority) that initialises. Initialisation happens
 * once per backend and is remembered, failures included; when none works, the error lists every
 * backend's failure.
 */
export async function resolveBackend(hints?: string | readonly string[]): Promise<{ name: string; backend: Backend }> {
  const names = normalizeHints(hints);
  const failures: string[] = [];
  for (const name of names) {
    const entry = registry.get(name);
    if (!entry) {
      failures.push(
        `${name}: not registered (registered: ${
          listBackends()
            .map((b) => b.name)
            .join(', ') || 'none'
        })`,
      );
      continue;
    }
    entry.init ??= entry.backend.init();
    try {
      await entry.init;
      return { name, backend: entry.backend };
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new AnchorSegError('ERR_BACKEND_UNAVAILABLE', `Expected a usable backend among [${names.join(', ')}] but none initialised: ${failures.join('; ')}`);
}

function normalizeHints(hints: unknown): string[] {
  if (hints === undefined) return listBackends().map((b) => b.name);
  // A string may be a comma-separated list ("tensorrt,onnx"): the form flags and ROS parameters take.
  const list = typeof hints === 'string' ? hints.split(',').map((h) => h.trim()) : hints;
  if (!Array.isArray(list) || list.length === 0 || !list.every((h) => typeof h === 'string' && h.length > 0)) {
    throw invalidArg('backend', 'a backend name, a comma-separated list of names or a non-empty array of names', hints);
  }
  return list;
}
