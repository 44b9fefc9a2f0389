/**
 * `npm run bench -- stream`: what dual-rate reasoning buys and costs on the ReasonSeg-Synth
 * moving sequences. Every policy runs the same frames through `Segmenter.stream()` (drop 'none',
 * so every frame is scored); policies take turns sequence by sequence, the order rotating, so
 * load changes on a shared machine hit every policy alike. Then one long run (default 5,000 frames, the sequences looped)
 * under the default policy measures resident memory near its start and its end. Event-loop delay is
 * sampled throughout.
 */
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { throwIfAborted } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { kernelsImplementation } from '../sdk/kernels/index.js';
import { intersectionUnion, scores, type IntersectionUnion } from '../sdk/data/metrics.js';
import { groundTruth } from '../sdk/data/reasonseg.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';
import { DEFAULT_REASON, type BankReason, type ReasonOptions } from '../sdk/stream/policy.js';
import { defaultSequencesDir, playSequences, readSequences, type Sequence, type SequenceFrame } from '../sdk/stream/sources.js';
import type { SegmentStream } from '../sdk/stream/stream.js';

export interface StreamBenchOptions extends OpenOptions {
  bundleDir?: string;
  sequencesDir?: string;
  /** Passes of every policy over all sequences (default 3). */
  rounds?: number;
  /** The every-N policies measured (default 2, 4, 8). */
  every?: number[];
  /** The every-N reported as `dualRate` (default 4). */
  dualRateEvery?: number;
  /** Frames of the long run under the default policy (default 5000). */
  longFrames?: number;
  onProgress?: (message: string) => void;
}

export interface Figures {
  fps: number;
  gIoU: number;
}

export interface PolicyFigures extends Figures {
  reason: ReasonOptions;
  frames: number;
  /** Reasoner runs per frame. */
  reasonerRate: number;
  /** Median time between consecutive results: the per-frame cost of the pipelined stream, ms. */
  frameMs: number;
}

export interface StreamBenchReport {
  bundle: { name: string; version: string; trainingStep: number | null; testGIoU: number | null };
  backend: string;
  kernels: 'native' | 'ts';
  threads: number | null;
  sequences: number;
  framesPerPass: number;
  rounds: number;
  policies: Record<string, PolicyFigures>;
  perFrame: Figures;
  dualRate: Figures & { every: number };
  adaptive: Figures;
  /** adaptive fps / per-frame fps. */
  speedup: number;
  /** Median per-frame cost with the reasoner on every frame / with the reasoner only at goal changes (same run). */
  idealSpeedup: number;
  /** adaptive gIoU / per-frame gIoU. */
  iouRetention: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  long: { frames: number; fps: number; rssStartMb: number; rssEndMb: number; heapStartMb: number; heapEndMb: number; reasonerRate: number };
  rssGrowthPct: number;
  /** 1-minute load average and CPU count at the start and the end: how contended the machine was. */
  machine: { cpus: number; loadStart: number; loadEnd: number };
}

interface Pass {
  frames: number;
  ms: number;
  intervals: number[];
  pairs: IntersectionUnion[];
  banks: Record<BankReason, number>;
}

/** The middle value (mean of the two middle ones for an even count). */
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const mb = (bytes: number) => bytes / 2 ** 20;
const MEMORY_EVERY = 50;

export async function streamBenchmark(options: StreamBenchOptions = {}): Promise<StreamBenchReport> {
  const { rounds = 3, every = [2, 4, 8], dualRateEvery = 4, longFrames = 5000, signal, onProgress } = options;
  const loadStart = loadavg()[0];
  const sequences = await readSequences(options.sequencesDir ?? defaultSequencesDir());
  // Frames decoded and ground truth painted up front: the run measures segmentation, not JPEG decoding.
  const frames = new Map<SequenceFrame, Frame>();
  const truth = new Map<SequenceFrame, Uint8Array>();
  for (const seq of sequences) {
    for (const f of seq.frames) {
      const frame = await loadImage(f.file);
      frames.set(f, frame);
      truth.set(f, groundTruth(f.shapes, frame.width, frame.height));
    }
  }
  const total = frames.size;
  const policies: Record<string, ReasonOptions> = {
    perFrame: { every: 1 },
    ...Object.fromEntries(every.map((n) => [`every${n}`, { every: n }])),
    adaptive: DEFAULT_REASON,
    goalOnly: {},
  };
  if (!policies[`every${dualRateEvery}`]) policies[`every${dualRateEvery}`] = { every: dualRateEvery };
  const seg = await Segmenter.open(options.bundleDir, { backend: options.backend, threads: options.threads, signal });
  const monitor = monitorEventLoopDelay({ resolution: 1 });
  try {
    const run = (list: readonly Sequence[], reason: ReasonOptions, loops: number, onResult?: (n: number) => void) => pass(seg, list, reason, loops, { frames, truth, signal, onResult });
    await run(sequences, DEFAULT_REASON, 1); // warm-up: engines, caches, JIT
    monitor.enable();
    const names = Object.keys(policies);
    const passes = new Map<string, Pass[]>(names.map((n) => [n, []]));
    // Policies take turns sequence by sequence (a few seconds each), the order rotating, so a
    // change of load on a shared machine falls on every policy alike.
    for (let r = 0; r < rounds; r++) {
      for (const [i, seq] of sequences.entries()) {
        for (let k = 0; k < names.length; k++) {
          const name = names[(k + i + r) % names.length];
          throwIfAborted(signal);
          passes.get(name)!.push(await run([seq], policies[name], 1));
        }
        onProgress?.(`round ${r + 1}/${rounds}: ${seq.name}`);
      }
    }
    const figures = Object.fromEntries(names.map((n) => [n, summarize(policies[n], passes.get(n)!)])) as Record<string, PolicyFigures>;

    // The long run: memory after a warm start against memory at the end. Sampled every 50
    // frames; start and end are the medians of the first and last tenth of the samples, so one
    // garbage collection landing next to a single sample does not decide the figure.
    const warm = Math.min(500, Math.floor(longFrames / 10));
    const samples: NodeJS.MemoryUsage[] = [];
    const loops = Math.ceil((longFrames + warm) / total);
    const long = await run(sequences, DEFAULT_REASON, loops, (n) => {
      if (n >= warm && (n - warm) % MEMORY_EVERY === 0) samples.push(process.memoryUsage());
      if (n % 1000 === 0) onProgress?.(`long run: ${n}/${loops * total}`);
    });
    monitor.disable();
    const tenth = Math.max(1, Math.floor(samples.length / 10));
    const at = (part: NodeJS.MemoryUsage[]) => ({ rss: median(part.map((m) => m.rss)), heapUsed: median(part.map((m) => m.heapUsed)) });
    const start = at(samples.slice(0, tenth));
    const end = at(samples.slice(-tenth));

    const fig = (n: string): Figures => ({ fps: figures[n].fps, gIoU: figures[n].gIoU });
    const m = seg.manifest;
    const config = m.model.config as { step?: unknown } | undefined;
    return {
      bundle: { name: m.model.name, version: m.model.version, trainingStep: typeof config?.step === 'number' ? config.step : null, testGIoU: m.metrics?.test?.gIoU ?? null },
      backend: seg.backend,
      kernels: kernelsImplementation,
      threads: options.threads ?? null,
      sequences: sequences.length,
      framesPerPass: total,
      rounds,
      policies: figures,
      perFrame: fig('perFrame'),
      dualRate: { ...fig(`every${dualRateEvery}`), every: dualRateEvery },
      adaptive: fig('adaptive'),
      speedup: figures.adaptive.fps / figures.perFrame.fps,
      idealSpeedup: figures.perFrame.frameMs / figures.goalOnly.frameMs,
      iouRetention: figures.adaptive.gIoU / figures.perFrame.gIoU,
      eventLoopLagP99Ms: monitor.percentile(99) / 1e6,
      eventLoopLagMaxMs: monitor.max / 1e6,
      long: {
        frames: long.frames - warm,
        fps: (long.frames * 1000) / long.ms,
        rssStartMb: mb(start.rss),
        rssEndMb: mb(end.rss),
        heapStartMb: mb(start.heapUsed),
        heapEndMb: mb(end.heapUsed),
        reasonerRate: sum(long.banks) / long.frames,
      },
      rssGrowthPct: ((end.rss - start.rss) / start.rss) * 100,
      machine: { cpus: availableParallelism(), loadStart, loadEnd: loadavg()[0] },
    };
  } finally {
    monitor.disable();
    await seg.close();
  }
}

interface PassData {
  frames: ReadonlyMap<SequenceFrame, Frame>;
  truth: ReadonlyMap<SequenceFrame, Uint8Array>;
  signal: AbortSignal | undefined;
  onResult?: (n: number) => void;
}

/** One stream over the sequences (looped `loops` times), the goal set at each sequence's first frame. */
async function pass(seg: Segmenter, sequences: readonly Sequence[], reason: ReasonOptions, loops: number, data: PassData): Promise<Pass> {
  const { signal, onResult } = data;
  const order = sequences.flatMap((s) => s.frames);
  const truthAt = (frameIndex: number) => data.truth.get(order[frameIndex % order.length])!;
  let stream: SegmentStream | undefined;
  const source = playSequences(sequences, { loops, load: (f) => data.frames.get(f)!, onSequence: (seq) => stream!.setGoal(seq.goal) });
  stream = seg.stream(source, { drop: 'none', reason, signal });
  const intervals: number[] = [];
  const pairs: IntersectionUnion[] = [];
  const t0 = performance.now();
  let last = t0;
  for await (const r of stream) {
    const now = performance.now();
    intervals.push(now - last);
    last = now;
    pairs.push(intersectionUnion(r.mask, truthAt(r.frameIndex)));
    onResult?.(pairs.length);
  }
  throwIfAborted(signal);
  return { frames: pairs.length, ms: last - t0, intervals: intervals.slice(1), pairs, banks: stream.stats().banksByReason };
}

function summarize(reason: ReasonOptions, passes: Pass[]): PolicyFigures {
  const frames = passes.reduce((a, p) => a + p.frames, 0);
  const ms = passes.reduce((a, p) => a + p.ms, 0);
  return {
    reason,
    frames,
    fps: (frames * 1000) / ms,
    gIoU: scores(passes.flatMap((p) => p.pairs)).gIoU ?? 0,
    reasonerRate: passes.reduce((a, p) => a + sum(p.banks), 0) / frames,
    frameMs: median(passes.flatMap((p) => p.intervals)),
  };
}

const sum = (banks: Record<BankReason, number>) => Object.values(banks).reduce((a, b) => a + b, 0);

/** The human-readable report (the JSON goes on the last line separately). */
export function formatStreamBench(r: StreamBenchReport): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)}`;
  const trained = r.bundle.trainingStep === 0 ? ' (UNTRAINED export: accuracy figures mean nothing)' : '';
  const rows = Object.entries(r.policies).map(
    ([name, p]) => `  ${name.padEnd(10)} ${p.fps.toFixed(1).padStart(7)} ${pct(p.gIoU).padStart(7)} ${p.reasonerRate.toFixed(3).padStart(9)} ${p.frameMs.toFixed(2).padStart(9)}`,
  );
  return [
    `bundle ${r.bundle.name} ${r.bundle.version}${trained}; backend ${r.backend}, kernels ${r.kernels}, threads ${r.threads ?? 'default'}`,
    `${r.sequences} sequences, ${r.framesPerPass} frames per policy and round, ${r.rounds} rounds (policies take turns sequence by sequence); ${r.machine.cpus} CPUs, load average ${r.machine.loadStart.toFixed(1)} -> ${r.machine.loadEnd.toFixed(1)}`,
    `  policy         fps    gIoU  reasoner/f  ms/frame`,
    ...rows,
    `speedup ${r.speedup.toFixed(3)} (adaptive / per-frame fps)   idealSpeedup ${r.idealSpeedup.toFixed(3)}   ratio ${(r.speedup / r.idealSpeedup).toFixed(3)} (target >= 0.8)`,
    `iouRetention ${r.iouRetention.toFixed(3)} (adaptive / per-frame gIoU, target >= 0.95)   dualRate = every ${r.dualRate.every}`,
    `eventLoopLagP99Ms ${r.eventLoopLagP99Ms.toFixed(2)} (max ${r.eventLoopLagMaxMs.toFixed(2)}, target <= 10)`,
    `long run ${r.long.frames} frames at ${r.long.fps.toFixed(1)} fps: rss ${r.long.rssStartMb.toFixed(1)} -> ${r.long.rssEndMb.toFixed(1)} MB (${r.rssGrowthPct.toFixed(2)}%, target <= 5), heap ${r.long.heapStartMb.toFixed(1)} -> ${r.long.heapEndMb.toFixed(1)} MB`,
  ].join('\n');
}
