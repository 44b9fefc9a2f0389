/**
 * `npm run bench -- bundles --bundle <candidate> --against <baseline>`: the per-frame latency of
 * one bundle against another's, in one process, on the same 640x480 frames and goal. A new model
 * is held to a latency budget relative to the one it replaces (issue #13: at most 1.5x 0.3.0's);
 * measured in separate runs on a shared machine, the two figures would differ by load alone, so
 * here they alternate in blocks (ABBA) and the ratio is taken per round.
 */
import { performance } from 'node:perf_hooks';
import { throwIfAborted } from '../sdk/base/errors.js';
import { kernelsImplementation } from '../sdk/kernels/index.js';
import type { Timings } from '../sdk/model/result.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';
import { HEIGHT, WIDTH, cameraFrames, median } from './camera.js';

/** Candidate / baseline latency allowed (issue #13). */
export const LATENCY_RATIO_MAX = 1.5;

export interface BundlesBenchOptions extends OpenOptions {
  /** The candidate (default: the embedded bundle). */
  bundleDir?: string;
  /** The baseline it is compared with. */
  againstDir: string;
  /** `segment()` calls per bundle per round (default 40). */
  calls?: number;
  /** Rounds (default 12). */
  rounds?: number;
  onProgress?: (message: string) => void;
}

export interface BundleLatency {
  name: string;
  version: string;
  /** Median wall time of one `await segment()`, ms. */
  segmentMs: number;
  /** Medians of the stage timings `segment()` reports, ms. */
  stages: Omit<Timings, 'total'>;
}

export interface BundlesBenchReport {
  backend: string;
  kernels: 'native' | 'ts';
  threads: number | null;
  frame: { width: number; height: number; encoding: 'rgb8' };
  calls: number;
  rounds: number;
  candidate: BundleLatency;
  baseline: BundleLatency;
  /** candidate / baseline median `segment()` time, per round. */
  roundRatios: number[];
  /** Median of `roundRatios`; target <= LATENCY_RATIO_MAX. */
  latencyRatio: number;
}

export async function bundlesBenchmark(options: BundlesBenchOptions): Promise<BundlesBenchReport> {
  const { calls = 40, rounds = 12, signal, onProgress } = options;
  const { frames, goal } = await cameraFrames(calls);
  const open = (dir: string | undefined) => Segmenter.open(dir, { backend: options.backend, threads: options.threads, signal });
  await using candidate = await open(options.bundleDir);
  await using baseline = await open(options.againstDir);
  const times = { candidate: [] as number[], baseline: [] as number[] };
  const timings = { candidate: [] as Timings[], baseline: [] as Timings[] };
  const roundRatios: number[] = [];
  const block = async (seg: Segmenter, into: number[], stages: Timings[]): Promise<number> => {
    const mine: number[] = [];
    for (const frame of frames) {
      throwIfAborted(signal);
      const t0 = performance.now();
      const r = await seg.segment(frame, goal, { signal });
      mine.push(performance.now() - t0);
      stages.push(r.timings);
    }
    into.push(...mine);
    return median(mine);
  };
  // warm-up: sessions, JIT, caches
  await block(candidate, [], []);
  await block(baseline, [], []);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['candidate', 'baseline'] as const) : (['baseline', 'candidate'] as const);
    const ms = { candidate: 0, baseline: 0 };
    for (const side of order) ms[side] = await block(side === 'candidate' ? candidate : baseline, times[side], timings[side]);
    roundRatios.push(ms.candidate / ms.baseline);
    onProgress?.(`round ${r + 1}/${rounds}: candidate ${ms.candidate.toFixed(2)} ms, baseline ${ms.baseline.toFixed(2)} ms`);
  }
  const latency = (seg: Segmenter, side: 'candidate' | 'baseline'): BundleLatency => {
    const stage = (k: keyof Timings) => median(timings[side].map((t) => t[k]));
    return {
      name: seg.manifest.model.name,
      version: seg.manifest.model.version,
      segmentMs: median(times[side]),
      stages: { preprocess: stage('preprocess'), vision: stage('vision'), reasoner: stage('reasoner'), decoder: stage('decoder'), postprocess: stage('postprocess') },
    };
  };
  return {
    backend: candidate.backend,
    kernels: kernelsImplementation,
    threads: options.threads ?? null,
    frame: { width: WIDTH, height: HEIGHT, encoding: 'rgb8' },
    calls,
    rounds,
    candidate: latency(candidate, 'candidate'),
    baseline: latency(baseline, 'baseline'),
    roundRatios,
    latencyRatio: median(roundRatios),
  };
}

export function formatBundlesBench(r: BundlesBenchReport): string {
  const line = (label: string, b: BundleLatency) =>
    `  ${label} ${b.name} ${b.version}: segment() ${b.segmentMs.toFixed(2)} ms (${Object.entries(b.stages)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(', ')})`;
  return [
    `bundles: ${r.calls} segment() calls per bundle per round, ${r.rounds} rounds (ABBA), frame ${r.frame.width}x${r.frame.height}, backend ${r.backend}, kernels ${r.kernels}, threads ${r.threads ?? 'default'} (medians)`,
    line('candidate', r.candidate),
    line('baseline ', r.baseline),
    `  latencyRatio ${r.latencyRatio.toFixed(3)} (rounds ${r.roundRatios.map((v) => v.toFixed(3)).join(', ')}); target <= ${LATENCY_RATIO_MAX}`,
  ].join('\n');
}
