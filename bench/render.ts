/**
 * docs/benchmarks.md from the saved runs (bench/results/*.json): `renderBenchmarks` is a pure
 * function of them, so `npm run bench:report -- --check` (and test/bench-report.test.ts) can tell
 * a stale page.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../sdk/kernels/native.js';
import { LATENCY_RATIO_MAX, type BundleLatency, type BundlesBenchReport } from './bundles.js';
import type { KernelBenchReport } from './kernels.js';
import type { BenchmarkReport } from './model.js';
import { readRuns, RESULTS_DIR, type BenchmarkName, type Machine, type SavedRun } from './results.js';
import type { RosBenchReport } from './ros.js';
import { RSS_GROWTH_MAX_PCT, type SoakReport } from './soak.js';
import type { StreamBenchReport } from './stream.js';
import type { ViewBenchReport } from './view.js';
import type { ZmqBenchReport } from './zmq.js';

export interface RenderInput {
  runs: { name: string; run: SavedRun }[];
}

/** What each benchmark measures and the target its headline ratio is held to (the issues' targets). */
const ABOUT: Record<BenchmarkName, { title: string; doc: string; spec: string }> = {
  model: {
    title: 'SDK overhead: `segment()` against the bare engines',
    doc: 'README.md',
    spec: '`overheadRatio` = median `segment()` wall time / median of the same three engines run bare with onnxruntime-node in the same process, the two alternating in blocks. Target: <= 1.15.',
  },
  bundles: {
    title: 'One model against another: per-frame latency',
    doc: 'models/README.md',
    spec: `\`latencyRatio\` = median over rounds of the candidate bundle's median \`segment()\` time / the baseline bundle's, on the same 640x480 frames and goal, the two alternating (ABBA) in one process. Target: <= ${LATENCY_RATIO_MAX} (a new embedded model may be at most that much slower than the one it replaces).`,
  },
  kernels: {
    title: 'Image and mask kernels',
    doc: 'docs/native.md',
    spec: 'A 640x480 rgb8 frame to the bundle input and 64x64 logits to a 640x480 mask; candidates interleaved, best round each. `nativeVsTs` = TS reference / native (the lower of the two stages), `nativeVsSharp` = sharp resize + raw / native async, `vsMemcpy` = native preprocess / a memcpy of the frame.',
  },
  stream: {
    title: 'Dual-rate reasoning on a stream',
    doc: 'docs/streaming.md',
    spec: '`speedup` = adaptive fps / per-frame fps; `idealSpeedup` = median per-frame cost with the reasoner on every frame / with it only at goal changes. Targets: `speedup` >= 0.8 x `idealSpeedup`, `iouRetention` (adaptive / per-frame gIoU) >= 0.95, event-loop lag p99 <= 10 ms, RSS growth over the long run <= 5%.',
  },
  zmq: {
    title: 'ZeroMQ transport',
    doc: 'docs/zmq-protocol.md',
    spec: '`throughputRatio` = median over rounds of results/s through `AnchorSegServer` + `AnchorSegClient` / results/s of `seg.stream()` directly, each round running both back to back. Target: >= 0.9 (overhead <= 10%).',
  },
  ros: {
    title: 'ROS 2 node',
    doc: 'docs/ros2.md',
    spec: 'Camera-to-mask latency through an rclpy camera -> `anchorseg ros` -> an rclpy listener / through `seg.stream()` in-process, same frames, alternating. Target: ROS 2 p50 latency <= 1.2x direct.',
  },
  view: {
    title: 'Live viewer',
    doc: 'docs/viewer.md',
    spec: '`throughputRatio` = median over rounds of results/s of a StreamHost with the viewer and a page connected (a process of its own asking for the newest frame as JPEG, and getting its result event, at the viewer fps cap, 15) / results/s of the same host without a viewer, each round running both (ABBA). Target: >= 0.95 (the viewer slows the pipeline by at most 5%).',
  },
  soak: {
    title: 'Soak: one long stream',
    doc: 'docs/robustness.md',
    spec: `The committed sequences streamed for the given minutes, every frame segmented, goals changing; RSS, heap, open file descriptors, threads and event-loop lag sampled. After the warm-up (the first quarter, at most a minute), start and end are the medians of the first and last tenth of the samples. Targets: RSS growth <= ${RSS_GROWTH_MAX_PCT}%, descriptors and threads no more at the end than at the start.`,
  },
};

const f = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const x = (v: number, digits = 2) => `${f(v, digits)}x`;
const pct = (v: number) => `${f(v * 100, 1)}%`;
const verdict = (met: boolean) => (met ? 'met' : '**missed**');
const table = (head: string[], rows: (string | number)[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const day = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** The headline of one run: figure, target, whether it was met. */
function headline(run: SavedRun): { figure: string; target: string; met: boolean | null } {
  switch (run.benchmark) {
    case 'model': {
      const r = run.report as BenchmarkReport;
      return { figure: `overheadRatio ${f(r.overheadRatio, 3)}`, target: '<= 1.15', met: r.overheadRatio <= 1.15 };
    }
    case 'bundles': {
      const r = run.report as BundlesBenchReport;
      return {
        figure: `latencyRatio ${f(r.latencyRatio, 3)} (${r.candidate.version} / ${r.baseline.version})`,
        target: `<= ${LATENCY_RATIO_MAX}`,
        met: r.latencyRatio <= LATENCY_RATIO_MAX,
      };
    }
    case 'kernels': {
      const r = run.report as KernelBenchReport;
      return { figure: `nativeVsTs ${x(r.nativeVsTs)}, nativeVsSharp ${x(r.nativeVsSharp)}`, target: 'native faster (> 1x)', met: r.nativeVsTs > 1 && r.nativeVsSharp > 1 };
    }
    case 'stream': {
      const r = run.report as StreamBenchReport;
      const ok = r.speedup >= 0.8 * r.idealSpeedup && r.iouRetention >= 0.95 && r.eventLoopLagP99Ms <= 10 && r.rssGrowthPct <= 5;
      return {
        figure: `speedup ${f(r.speedup, 3)} / ideal ${f(r.idealSpeedup, 3)} = ${f(r.speedup / r.idealSpeedup, 3)}, iouRetention ${f(r.iouRetention, 3)}`,
        target: '>= 0.8, >= 0.95 (+ lag, RSS)',
        met: ok,
      };
    }
    case 'zmq': {
      const r = run.report as ZmqBenchReport;
      return { figure: `throughputRatio ${f(r.throughputRatio, 3)} (${r.transport})`, target: '>= 0.9', met: r.throughputRatio >= 0.9 };
    }
    case 'ros': {
      const r = run.report as RosBenchReport;
      return { figure: `ROS 2 / direct p50 ${x(r.ratioP50)}, mean ${x(r.ratioMean)}`, target: 'p50 <= 1.2x', met: r.ratioP50 <= 1.2 };
    }
    case 'view': {
      const r = run.report as ViewBenchReport;
      return { figure: `throughputRatio ${f(r.throughputRatio, 3)}`, target: '>= 0.95', met: r.throughputRatio >= 0.95 };
    }
    case 'soak': {
      const r = run.report as SoakReport;
      return {
        figure: `${f(r.seconds / 60, 1)} min: RSS growth ${f(r.rssGrowthPct)}%, fds ${f(r.fds.start, 0)} -> ${f(r.fds.end, 0)}, threads ${f(r.threadCount.start, 0)} -> ${f(r.threadCount.end, 0)}`,
        target: `<= ${RSS_GROWTH_MAX_PCT}%, flat`,
        met: r.verdict.pass,
      };
    }
  }
}

function model(r: BenchmarkReport): string {
  return [
    table(
      ['threads', 'frame', 'runs', '`segment()` median', 'bare engines median', '**overheadRatio**', 'event-loop lag p99 (max)'],
      [
        [
          r.threads ?? 'default',
          `${r.frame.width}x${r.frame.height} ${r.frame.encoding}`,
          r.iterations,
          `${f(r.segmentMs)} ms`,
          `${f(r.rawEnginesMs)} ms`,
          `**${f(r.overheadRatio, 3)}**`,
          `${f(r.eventLoopLagP99Ms)} ms (${f(r.eventLoopLagMaxMs)})`,
        ],
      ],
    ),
    '',
    `Stage medians inside \`segment()\`: ${Object.entries(r.stages)
      .map(([k, v]) => `${k} ${f(v)} ms`)
      .join(', ')}; bare: ${Object.entries(r.rawStages)
      .map(([k, v]) => `${k} ${f(v)} ms`)
      .join(', ')}. Backend ${r.backend}, kernels ${r.kernels}.`,
  ].join('\n');
}

function bundles(r: BundlesBenchReport): string {
  const row = (role: string, b: BundleLatency) => [
    role,
    `${b.name} ${b.version}`,
    `${f(b.segmentMs)} ms`,
    f(b.stages.vision),
    f(b.stages.reasoner),
    f(b.stages.decoder),
    f(b.stages.preprocess + b.stages.postprocess),
  ];
  return [
    `${r.calls} \`segment()\` calls per bundle and round, ${r.frame.width}x${r.frame.height} ${r.frame.encoding}, ${r.rounds} rounds; backend ${r.backend}, kernels ${r.kernels}, threads ${r.threads ?? 'default'}.`,
    '',
    table(['', 'bundle', '`segment()` median', 'vision ms', 'reasoner ms', 'decoder ms', 'pre + post ms'], [row('candidate', r.candidate), row('baseline', r.baseline)]),
    '',
    `**latencyRatio ${f(r.latencyRatio, 3)}** (rounds ${r.roundRatios.map((v) => f(v, 3)).join(', ')}) against <= ${LATENCY_RATIO_MAX}: ${verdict(r.latencyRatio <= LATENCY_RATIO_MAX)}.`,
  ].join('\n');
}

function kernels(r: KernelBenchReport): string {
  const ms = (v: number) => `${f(v, 3)} ms`;
  const p = r.preprocess;
  const q = r.postprocess;
  return [
    table(
      ['stage', 'native sync', 'native async', 'TS reference', 'sharp resize + raw', 'memcpy', 'native vs TS'],
      [
        [`preprocess ${r.frame} -> ${r.input}`, ms(p.nativeMs), ms(p.nativeAsyncMs), ms(p.tsMs), ms(p.sharpMs), ms(p.memcpyMs), x(p.nativeVsTs)],
        [`postprocess ${r.logits}`, ms(q.nativeMs), ms(q.nativeAsyncMs), ms(q.tsMs), '', ms(q.memcpyMs), x(q.nativeVsTs)],
      ],
    ),
    '',
    `Best of ${r.rounds} interleaved rounds. **nativeVsTs ${x(r.nativeVsTs)}**, **nativeVsSharp ${x(r.nativeVsSharp)}** (sync: ${x(p.nativeVsSharpSync)}; sharp concurrency ${p.sharpConcurrency}), vsMemcpy ${x(r.vsMemcpy, 1)}; the preprocess split over ${p.cores} threads: ${ms(p.nativeAllCoresMs)} (${x(p.nativeMs / p.nativeAllCoresMs)} the one-thread speed).`,
  ].join('\n');
}

function stream(r: StreamBenchReport): string {
  const untrained = r.bundle.trainingStep === 0 ? 'An untrained export: its gIoU means nothing. ' : '';
  return [
    `${untrained}Backend ${r.backend}, kernels ${r.kernels}, threads ${r.threads ?? 'default'}; ${r.sequences} sequences, ${r.framesPerPass} frames per policy and round, ${r.rounds} rounds.`,
    '',
    table(
      ['policy', 'fps', 'gIoU', 'reasoner runs / frame', 'median ms / frame'],
      Object.entries(r.policies).map(([name, p]) => [name, f(p.fps, 1), f(p.gIoU, 3), f(p.reasonerRate, 3), f(p.frameMs)]),
    ),
    '',
    table(
      ['figure', 'value', 'target', ''],
      [
        ['`speedup` (adaptive / per-frame fps)', f(r.speedup, 3), `>= 0.8 x idealSpeedup = ${f(0.8 * r.idealSpeedup, 3)}`, verdict(r.speedup >= 0.8 * r.idealSpeedup)],
        ['`idealSpeedup`', f(r.idealSpeedup, 3), '', ''],
        ['`iouRetention` (adaptive / per-frame gIoU)', f(r.iouRetention, 3), '>= 0.95', verdict(r.iouRetention >= 0.95)],
        [`event-loop lag p99 (max ${f(r.eventLoopLagMaxMs, 1)})`, `${f(r.eventLoopLagP99Ms)} ms`, '<= 10 ms', verdict(r.eventLoopLagP99Ms <= 10)],
        [`RSS growth, ${r.long.frames} frames (${f(r.long.rssStartMb, 1)} -> ${f(r.long.rssEndMb, 1)} MB)`, `${f(r.rssGrowthPct)}%`, '<= 5%', verdict(r.rssGrowthPct <= 5)],
      ],
    ),
  ].join('\n');
}

function zmq(r: ZmqBenchReport): string {
  const row = (name: string, p: ZmqBenchReport['direct']) => [name, f(p.resultsPerSec, 1), f(p.cpuMsPerResult), `${f(p.latencyMs.p50)} / ${f(p.latencyMs.p95)} ms`];
  return [
    `${r.frames} frames ${r.frame.width}x${r.frame.height} ${r.frame.encoding} per run, ${r.rounds} rounds, ${r.window} frames in flight, ${r.transport === 'tcp' ? 'loopback TCP' : 'Unix domain sockets (ipc)'}; backend ${r.backend}, kernels ${r.kernels}.`,
    '',
    table(['path', 'results/s (median of rounds)', 'CPU ms / result', 'latency p50 / p95, one frame at a time'], [row('`seg.stream()` directly', r.direct), row('through ZeroMQ', r.zmq)]),
    '',
    `**throughputRatio ${f(r.throughputRatio, 3)}** (overhead ${pct(r.throughputOverhead)}; rounds ${r.roundRatios.map((v) => f(v)).join(', ')}) against >= 0.9: ${verdict(r.throughputRatio >= 0.9)}. cpuRatio ${f(r.cpuRatio, 3)}, latencyRatioP50 ${f(r.latencyRatioP50, 3)}; serving costs ${f(r.transportCpuMs)} CPU ms per result, of which moving the bytes alone (bare sockets, no model) ${f(r.bareBytesCpuMs)} ms.`,
  ].join('\n');
}

function ros(r: RosBenchReport): string {
  const row = (name: string, s: RosBenchReport['direct']) => [
    name,
    `${f(s.meanMs, 1)} / ${f(s.p50Ms, 1)} / ${f(s.p95Ms, 1)} ms`,
    `${f(s.deliveredHz, 1)} Hz (${s.delivered} of ${s.offered})`,
    s.droppedLatestWins,
    s.lostInTransport ?? '',
  ];
  const split =
    r.ros2.inNodeMeanMs === undefined
      ? ''
      : ` The ROS 2 mean splits into ${f(r.ros2.inNodeMeanMs, 1)} ms in the node (arrival to publication) and ${f(r.ros2.meanMs - r.ros2.inNodeMeanMs, 1)} ms for camera -> node -> listener.`;
  return [
    `${r.frames}, goal "${r.goal}".`,
    '',
    table(['path', 'latency mean / p50 / p95', 'delivered', 'latest-frame-wins drops', 'lost in transport'], [row('`seg.stream()` directly', r.direct), row('through ROS 2', r.ros2)]),
    '',
    `**ROS 2 / direct: p50 ${x(r.ratioP50)}, mean ${x(r.ratioMean)}** against p50 <= 1.2x: ${verdict(r.ratioP50 <= 1.2)}.${split}`,
  ].join('\n');
}

function view(r: ViewBenchReport): string {
  return [
    `${r.frames} frames ${r.frame.width}x${r.frame.height} ${r.frame.encoding} per run, every frame segmented (drop none), ${r.rounds} rounds; the page in its own process at the viewer's ${r.viewFps} fps cap; backend ${r.backend}, kernels ${r.kernels}.`,
    '',
    table(
      ['path', 'results/s (median of rounds)', 'CPU ms / result (this process)', 'the page received'],
      [
        ['StreamHost, no viewer', f(r.withoutPerSec, 1), f(r.cpuMsPerResult.without), ''],
        [
          'StreamHost + viewer + a connected page',
          f(r.withPerSec, 1),
          f(r.cpuMsPerResult.with),
          `${f(r.page.eventsPerSec, 1)} result events/s, ${f(r.page.framesPerSec, 1)} JPEG frames/s (${f(r.page.jpegKiB, 1)} KiB each)`,
        ],
      ],
    ),
    '',
    `**throughputRatio ${f(r.throughputRatio, 3)}** (rounds ${r.roundRatios.map((v) => f(v, 3)).join(', ')}) against >= 0.95: ${verdict(r.throughputRatio >= 0.95)}.`,
  ].join('\n');
}
function soak(r: SoakReport): string {
  const trend = (t: SoakReport['rssMb'], digits = 1) => [f(t.start, digits), f(t.end, digits), f(t.max, digits)];
  // A few rows of the series: about one per tenth of the run, and the last sample.
  const step = Math.max(1, Math.floor(r.samples.length / 10));
  const rows = r.samples.filter((_, i) => i % step === 0 || i === r.samples.length - 1);
  return [
    `${f(r.seconds / 60, 1)} of ${r.minutes} minutes${r.interrupted ? ' (interrupted)' : ''}: ${r.frames} frames at ${f(r.fps, 1)} fps, cycling ${r.framesInCycle} decoded frames; backend ${r.backend}, kernels ${r.kernels}, threads ${r.threads ?? 'default'}; a sample every ${f(r.sampleSeconds, 1)} s, warm-up ${f(r.warmupSeconds, 0)} s.`,
    '',
    table(
      ['after warm-up', 'start', 'end', 'max', 'target', ''],
      [
        ['RSS (MB)', ...trend(r.rssMb), `growth ${f(r.rssGrowthPct)}% <= ${RSS_GROWTH_MAX_PCT}%`, verdict(r.verdict.rss)],
        ['heap used (MB)', ...trend(r.heapMb), '', ''],
        ['open file descriptors', ...trend(r.fds, 0), 'flat', verdict(r.verdict.fds)],
        ['threads', ...trend(r.threadCount, 0), 'flat', verdict(r.verdict.threads)],
      ],
    ),
    '',
    `Event-loop lag p99 ${f(r.eventLoopLagP99Ms)} ms (max ${f(r.eventLoopLagMaxMs, 1)}). Over time:`,
    '',
    table(
      ['s', 'frames', 'RSS MB', 'heap MB', 'fds', 'threads', 'lag p99 ms'],
      rows.map((s) => [f(s.s, 0), s.frames, f(s.rssMb, 1), f(s.heapMb, 1), s.fds, s.threads, f(s.lagP99Ms)]),
    ),
  ].join('\n');
}

const BODY: Record<BenchmarkName, (report: never) => string> = { model, bundles, kernels, stream, zmq, ros, view, soak };

const machineLine = (m: Machine) => `${m.cpu}, ${m.cpus} CPUs, ${m.memoryGiB} GiB, ${m.os}, Node.js ${m.node.replace(/^v/, '')}`;

export function renderBenchmarks({ runs }: RenderInput): string {
  const order = (b: BenchmarkName) => Object.keys(ABOUT).indexOf(b);
  const sorted = [...runs].sort((a, b) => order(a.run.benchmark) - order(b.run.benchmark) || a.name.localeCompare(b.name));
  const machines = [...new Set(sorted.map((r) => machineLine(r.run.machine)))];
  const notes = new Set(sorted.map((r) => r.run.note));
  /** A note every run shares is said once, under the machine. */
  const shared = notes.size === 1 ? [...notes][0] : undefined;
  const sentence = (note: string) => `${note.charAt(0).toUpperCase()}${note.slice(1)}.`;
  const out: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench:report` from bench/results/*.json. Do not edit: rerun a benchmark with --save, then regenerate. -->',
    '',
    'Every figure on this page comes from one saved run of `npm run bench -- <benchmark> --save`',
    '(`bench/main.ts`; the JSON it saved is in `bench/results/`), rendered by `npm run bench:report`.',
    'A performance claim here is a ratio of two paths measured in the same run, so load on the machine',
    'falls on both; absolute times say as much about the machine and its neighbours as about the code.',
    'To measure your hardware: `npm run bench -- <benchmark> --save [name] [--note text]` for each',
    '(`bash ros/with-ros.sh npm run bench -- ros --save` for ROS 2), then `npm run bench:report`.',
    '',
    `${machines.length === 1 ? `Machine: ${machines[0]}.` : `Machines: ${machines.join('; ')}.`}${shared ? ` Every run's note: ${sentence(shared)}` : ''}`,
    '',
    table(
      ['run', 'date', 'headline', 'target', ''],
      sorted.map(({ name, run }) => {
        const h = headline(run);
        return [`[${name}](#${name})`, run.date.slice(0, 10), h.figure, h.target, h.met === null ? '' : verdict(h.met)];
      }),
    ),
  ];
  let last: BenchmarkName | undefined;
  for (const { name, run } of sorted) {
    const about = ABOUT[run.benchmark];
    if (run.benchmark !== last) {
      out.push('', `## ${about.title}`, '', `${about.spec} (${about.doc})`);
      last = run.benchmark;
    }
    out.push(
      '',
      `### ${name}`,
      '',
      '```sh',
      run.command,
      '```',
      '',
      `${day(run.date)}, commit ${run.commit}, bundle ${run.bundle}; load average ${f(run.machine.loadStart, 1)} at the start, ${f(run.machine.loadEnd, 1)} at the end on ${run.machine.cpus} CPUs.${run.note && !shared ? ` ${sentence(run.note)}` : ''}`,
      '',
      BODY[run.benchmark](run.report as never),
    );
  }
  return `${out.join('\n')}\n`;
}

export const PAGE = path.join(packageRoot(), 'docs', 'benchmarks.md');
const EARLIER = path.join(RESULTS_DIR, 'earlier.md');

/** The page as the saved runs render it. */
export function renderPage(): string {
  const page = renderBenchmarks({ runs: readRuns() });
  return existsSync(EARLIER) ? `${page}\n${readFileSync(EARLIER, 'utf8')}` : page;
}
