import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../sdk/backends/onnx-session.js';
import { loadBundle } from '../sdk/model/bundle.js';
import { throwIfAborted } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { frameToTensor, kernelsImplementation } from '../sdk/kernels/index.js';
import { ENGINE_NAMES, type EngineName } from '../sdk/model/manifest.js';
import type { Timings } from '../sdk/model/result.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';
import { Tokenizer } from '../sdk/model/tokenizer.js';

export interface BenchmarkOptions extends OpenOptions {
  bundleDir?: string;
  frame: Frame;
  goal: string;
  /** Measured segment() calls (and as many raw pipeline runs). */
  iterations?: number;
  warmup?: number;
  /** SDK and raw runs alternate in this many blocks, so load changes on a shared machine hit both alike. */
  rounds?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface BenchmarkReport {
  backend: string;
  kernels: 'native' | 'ts';
  threads: number | null;
  frame: { width: number; height: number; encoding: string };
  iterations: number;
  /** Medians of the per-stage timings segment() reports, ms. */
  stages: Omit<Timings, 'total'>;
  /** Median wall time of one `await segment()`, ms. */
  segmentMs: number;
  /** Median of vision + reasoner + decoder run directly with onnxruntime-node on the main thread (same session options), ms. */
  rawEnginesMs: number;
  rawStages: Record<EngineName, number>;
  /** segmentMs / rawEnginesMs: what the SDK (preprocess, worker hand-off, postprocess) costs on top of bare engine runs. */
  overheadRatio: number;
  /** 99th percentile event-loop delay while segment() ran (calls of their own, not the timed ones), ms (perf_hooks.monitorEventLoopDelay). */
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Latency of `segment()` against the same three engines run bare, measured in one process run,
 * with the event loop's delay sampled while the SDK works.
 */
export async function benchmark(options: BenchmarkOptions): Promise<BenchmarkReport> {
  const { frame, goal, iterations = 300, warmup = 20, rounds = 15, signal, onProgress } = options;
  const seg = await Segmenter.open(options.bundleDir, { backend: options.backend, threads: options.threads, signal });
  const raw = await RawPipeline.open(seg.bundleDir, options.threads);
  try {
    for (let i = 0; i < warmup; i++) {
      await seg.segment(frame, goal, { signal });
      await raw.run(frame, goal);
    }
    const monitor = monitorEventLoopDelay({ resolution: 1 });
    const wall: number[] = [];
    const timings: Timings[] = [];
    const rawRuns: Record<EngineName, number>[] = [];
    const perRound = Math.max(1, Math.ceil(iterations / rounds));
    while (wall.length < iterations) {
      const block = Math.min(perRound, iterations - wall.length);
      for (let i = 0; i < block; i++) {
        throwIfAborted(signal);
        const t0 = performance.now();
        const r = await seg.segment(frame, goal, { signal });
        wall.push(performance.now() - t0);
        timings.push(r.timings);
      }
      for (let i = 0; i < block; i++) rawRuns.push(await raw.run(frame, goal));
      onProgress?.(wall.length, iterations);
    }
    // The lag is sampled over as many segment() calls of their own, in one block: the monitor's
    // 1 ms timer slowed the timed calls by about 5% on a 2-core machine, and a monitor enabled
    // again after a pause counts the pause (here: the bare runs, which block this thread by
    // design) as one long delay.
    monitor.enable();
    for (let i = 0; i < iterations; i++) {
      throwIfAborted(signal);
      await seg.segment(frame, goal, { signal });
    }
    monitor.disable();
    const stage = (k: keyof Timings) => median(timings.map((t) => t[k]));
    const rawStages = Object.fromEntries(ENGINE_NAMES.map((n) => [n, median(rawRuns.map((r) => r[n]))])) as Record<EngineName, number>;
    const rawEnginesMs = median(rawRuns.map((r) => r.vision + r.reasoner + r.decoder));
    const segmentMs = median(wall);
    return {
      backend: seg.backend,
      kernels: kernelsImplementation,
      threads: options.threads ?? null,
      frame: { width: frame.width, height: frame.height, encoding: frame.encoding },
      iterations: wall.length,
      stages: { preprocess: stage('preprocess'), vision: stage('vision'), reasoner: stage('reasoner'), decoder: stage('decoder'), postprocess: stage('postprocess') },
      segmentMs,
      rawEnginesMs,
      rawStages,
      overheadRatio: segmentMs / rawEnginesMs,
      eventLoopLagP99Ms: monitor.percentile(99) / 1e6,
      eventLoopLagMaxMs: monitor.max / 1e6,
    };
  } finally {
    await seg.close();
    await raw.close();
  }
}

/** The baseline: the bundle's three ONNX sessions called directly, in order, wired by name. */
class RawPipeline {
  readonly #sessions: Record<EngineName, ort.InferenceSession>;
  readonly #bundle: Awaited<ReturnType<typeof loadBundle>>;
  readonly #tokenizer: Tokenizer;

  private constructor(bundle: Awaited<ReturnType<typeof loadBundle>>, sessions: Record<EngineName, ort.InferenceSession>) {
    this.#bundle = bundle;
    this.#sessions = sessions;
    this.#tokenizer = Tokenizer.forBundle(bundle);
  }

  static async open(dir: string, threads: number | undefined): Promise<RawPipeline> {
    const bundle = await loadBundle(dir);
    const sessions = await Promise.all(ENGINE_NAMES.map((n) => ort.InferenceSession.create(bundle.engines[n], sessionOptions(threads))));
    return new RawPipeline(bundle, Object.fromEntries(ENGINE_NAMES.map((n, i) => [n, sessions[i]])) as Record<EngineName, ort.InferenceSession>);
  }

  /** Engine inputs are prepared before the clock starts: only the three `run()` calls are timed. */
  async run(frame: Frame, goal: string): Promise<Record<EngineName, number>> {
    const pool = new Map<string, ort.Tensor>();
    for (const spec of this.#bundle.manifest.images) pool.set(spec.input, new ort.Tensor(spec.dtype, frameToTensor(frame, spec).data, [1, 3, spec.height, spec.width]));
    for (const [name, t] of Object.entries(this.#tokenizer.tensors(this.#tokenizer.tokenize(goal)))) pool.set(name, new ort.Tensor(t.dtype, t.data, t.dims));
    const ms = {} as Record<EngineName, number>;
    for (const name of ENGINE_NAMES) {
      const feeds = Object.fromEntries(this.#bundle.manifest.engines[name].inputs.map((i) => [i.name, pool.get(i.name)!]));
      const t0 = performance.now();
      const out = await this.#sessions[name].run(feeds);
      ms[name] = performance.now() - t0;
      for (const [k, v] of Object.entries(out)) pool.set(k, v);
    }
    return ms;
  }

  async close(): Promise<void> {
    await Promise.all(ENGINE_NAMES.map((n) => this.#sessions[n].release()));
  }
}

/** The human-readable report (with --json, the JSON goes on the last line separately). */
export function formatModelBench(r: BenchmarkReport): string {
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  return [
    `backend ${r.backend}, kernels ${r.kernels}, threads ${r.threads ?? 'default'}, frame ${r.frame.width}x${r.frame.height} ${r.frame.encoding}, ${r.iterations} runs (medians)`,
    ...Object.entries(r.stages).map(([k, v]) => `  ${k.padEnd(12)} ${ms(v)}`),
    `  segment()    ${ms(r.segmentMs)}  end to end`,
    `  bare engines ${ms(r.rawEnginesMs)}  (${Object.entries(r.rawStages)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')})`,
    `overheadRatio ${r.overheadRatio.toFixed(3)}  eventLoopLagP99Ms ${r.eventLoopLagP99Ms.toFixed(2)}  (max ${r.eventLoopLagMaxMs.toFixed(2)})`,
  ].join('\n');
}
