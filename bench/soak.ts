/**
 * `npm run bench -- soak --minutes N`: the embedded model (or --bundle) streams the committed
 * moving sequences for N minutes, every frame segmented as fast as it goes, goals changing with
 * the sequences; the process's resident memory, heap, open file descriptors (/proc/self/fd),
 * threads (/proc/self/status) and event-loop lag are sampled along the way. The verdict: after a
 * warm-up, RSS grows by at most 2 % and the descriptors and threads stay flat (docs/robustness.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { kernelsImplementation } from '../sdk/kernels/index.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';
import { DEFAULT_REASON } from '../sdk/stream/policy.js';
import { defaultSequencesDir, playSequences, readSequences, type SequenceFrame } from '../sdk/stream/sources.js';
import type { SegmentStream } from '../sdk/stream/stream.js';
import { mb, median } from './stream.js';

export interface SoakOptions extends OpenOptions {
  bundleDir?: string;
  sequencesDir?: string;
  minutes: number;
  /** Seconds between samples (default: the run in about 120 samples, 1 to 30 s). */
  sampleSeconds?: number;
  onProgress?: (message: string) => void;
}

export interface SoakSample {
  /** Seconds since the stream started. */
  s: number;
  frames: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  threads: number;
  /** Event-loop delay since the previous sample. */
  lagP99Ms: number;
  lagMaxMs: number;
}

/** A figure near the start of the measured part (after warm-up) and at its end: medians of its first and last tenth of samples. */
export interface Trend {
  start: number;
  end: number;
  max: number;
}

export interface SoakReport {
  bundle: string;
  backend: string;
  kernels: 'native' | 'ts';
  threads: number | null;
  /** What was asked for and what ran (less when interrupted). */
  minutes: number;
  seconds: number;
  interrupted: boolean;
  frames: number;
  fps: number;
  /** Frames cycled: the first FRAMES_PER_SEQUENCE of each sequence, decoded once. */
  framesInCycle: number;
  warmupSeconds: number;
  sampleSeconds: number;
  rssMb: Trend;
  heapMb: Trend;
  fds: Trend;
  threadCount: Trend;
  rssGrowthPct: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** RSS growth after warm-up <= RSS_GROWTH_MAX_PCT, descriptors and threads no more at the end than at the start. */
  verdict: { rss: boolean; fds: boolean; threads: boolean; pass: boolean };
  samples: SoakSample[];
}

export const RSS_GROWTH_MAX_PCT = 2;
/** Enough frames for every sequence's goal to come round often; few enough that the decoded frames weigh little against the runtime. */
const FRAMES_PER_SEQUENCE = 30;

const openFds = () => readdirSync('/proc/self/fd').length - 1; // less the descriptor reading the folder
const threadCount = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

export async function soakBenchmark(options: SoakOptions): Promise<SoakReport> {
  const { minutes, signal, onProgress } = options;
  const seconds = minutes * 60;
  const sampleSeconds = options.sampleSeconds ?? Math.min(30, Math.max(1, seconds / 120));
  // The first quarter, at most a minute: engines, caches, allocator arenas and JIT settle there.
  const warmupSeconds = Math.min(60, seconds / 4);
  const sequences = (await readSequences(options.sequencesDir ?? defaultSequencesDir())).map((s) => ({ ...s, frames: s.frames.slice(0, FRAMES_PER_SEQUENCE) }));
  // Decoded up front: the run measures the runtime, not JPEG decoding.
  const decoded = new Map<SequenceFrame, Frame>();
  for (const seq of sequences) for (const f of seq.frames) decoded.set(f, await loadImage(f.file));

  const seg = await Segmenter.open(options.bundleDir, { backend: options.backend, threads: options.threads, signal });
  const lag = monitorEventLoopDelay({ resolution: 1 });
  const lagAll = monitorEventLoopDelay({ resolution: 1 });
  const samples: SoakSample[] = [];
  let frames = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    let stream: SegmentStream | undefined;
    const source = playSequences(sequences, { loops: Infinity, load: (f) => decoded.get(f)!, onSequence: (seq) => stream!.setGoal(seq.goal) });
    stream = seg.stream(source, { drop: 'none', reason: DEFAULT_REASON, signal });
    const t0 = performance.now();
    const sample = () => {
      const m = process.memoryUsage();
      const s = (performance.now() - t0) / 1000;
      samples.push({ s, frames, rssMb: mb(m.rss), heapMb: mb(m.heapUsed), fds: openFds(), threads: threadCount(), lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6 });
      lag.reset();
      const minute = Math.floor(s / 60);
      if (minute > Math.floor((s - sampleSeconds) / 60))
        onProgress?.(`${minute}/${minutes} min: ${frames} frames, rss ${mb(m.rss).toFixed(1)} MB, fds ${samples.at(-1)!.fds}, threads ${samples.at(-1)!.threads}`);
    };
    lag.enable();
    lagAll.enable();
    timer = setInterval(sample, sampleSeconds * 1000);
    const end = t0 + seconds * 1000;
    for await (const _ of stream) {
      frames++;
      if (performance.now() >= end) break;
    }
    clearInterval(timer);
    sample();
    const ran = (performance.now() - t0) / 1000;

    const measured = samples.filter((x) => x.s >= warmupSeconds);
    const tenth = Math.max(1, Math.floor(measured.length / 10));
    const trend = (pick: (x: SoakSample) => number): Trend => ({
      start: median(measured.slice(0, tenth).map(pick)),
      end: median(measured.slice(-tenth).map(pick)),
      max: Math.max(...measured.map(pick)),
    });
    const rss = trend((x) => x.rssMb);
    const fds = trend((x) => x.fds);
    const threads = trend((x) => x.threads);
    const rssGrowthPct = ((rss.end - rss.start) / rss.start) * 100;
    const verdict = { rss: rssGrowthPct <= RSS_GROWTH_MAX_PCT, fds: fds.end <= fds.start, threads: threads.end <= threads.start };
    return {
      bundle: `${seg.manifest.model.name} ${seg.manifest.model.version}`,
      backend: seg.backend,
      kernels: kernelsImplementation,
      threads: options.threads ?? null,
      minutes,
      seconds: ran,
      interrupted: signal?.aborted ?? false,
      frames,
      fps: frames / ran,
      framesInCycle: decoded.size,
      warmupSeconds,
      sampleSeconds,
      rssMb: rss,
      heapMb: trend((x) => x.heapMb),
      fds,
      threadCount: threads,
      rssGrowthPct,
      eventLoopLagP99Ms: lagAll.percentile(99) / 1e6,
      eventLoopLagMaxMs: lagAll.max / 1e6,
      verdict: { ...verdict, pass: verdict.rss && verdict.fds && verdict.threads },
      samples,
    };
  } finally {
    clearInterval(timer);
    lag.disable();
    lagAll.disable();
    await seg.close();
  }
}

/** The human-readable report (the JSON goes on the last line separately). */
export function formatSoakBench(r: SoakReport): string {
  const t = (x: Trend, unit = '') => `${x.start.toFixed(1)}${unit} -> ${x.end.toFixed(1)}${unit} (max ${x.max.toFixed(1)})`;
  const ok = (met: boolean) => (met ? 'ok' : 'FAILED');
  return [
    `bundle ${r.bundle}; backend ${r.backend}, kernels ${r.kernels}, threads ${r.threads ?? 'default'}`,
    `${(r.seconds / 60).toFixed(1)} of ${r.minutes} min${r.interrupted ? ' (interrupted)' : ''}: ${r.frames} frames at ${r.fps.toFixed(1)} fps over a cycle of ${r.framesInCycle}; samples every ${r.sampleSeconds.toFixed(1)} s, warm-up ${r.warmupSeconds.toFixed(0)} s`,
    `after warm-up (median of the first tenth -> of the last tenth):`,
    `  rss     ${t(r.rssMb, ' MB')}: ${r.rssGrowthPct.toFixed(2)}%, target <= ${RSS_GROWTH_MAX_PCT}%: ${ok(r.verdict.rss)}`,
    `  heap    ${t(r.heapMb, ' MB')}`,
    `  fds     ${t(r.fds)}: flat: ${ok(r.verdict.fds)}`,
    `  threads ${t(r.threadCount)}: flat: ${ok(r.verdict.threads)}`,
    `event-loop lag p99 ${r.eventLoopLagP99Ms.toFixed(2)} ms (max ${r.eventLoopLagMaxMs.toFixed(1)})`,
    `verdict: ${r.verdict.pass ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}
