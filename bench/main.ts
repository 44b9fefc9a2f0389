#!/usr/bin/env node
/**
 * `npm run bench -- <benchmark> [flags]`: the repository's benchmarks (not shipped in the package).
 * Each prints its report; `--json` adds the report as one JSON object on the last stdout line;
 * `--save [name]` also writes it, with the machine, date and command line, to
 * bench/results/<name>.json, which `npm run bench:report` renders into docs/benchmarks.md.
 */
import path from 'node:path';
import { Command } from 'commander';
import { defaultDataDir } from '../sdk/evaluate.js';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { readReasonSeg } from '../sdk/data/reasonseg.js';
import { action, addBundleFlag, addEngineFlags, interruptSignal, oneOf, positiveInt, positiveNumber, type EngineFlags } from '../cli/run.js';
import { benchmarkBundleKernels, formatKernelReport } from './kernels.js';
import { benchmark, formatModelBench } from './model.js';
import { bundleName, commandLine, machineProbe, saveRun, type BenchmarkName } from './results.js';
import { formatSoakBench, soakBenchmark } from './soak.js';
import { formatStreamBench, streamBenchmark } from './stream.js';
import type { ZmqTransport } from './zmq.js';

interface Common extends EngineFlags {
  json?: boolean;
  save?: string | true;
  note?: string;
}

/** --json and --save, the same for every benchmark; `engine`: also --backend and --threads (not for the kernels, which run no engine). */
function common(cmd: Command, engine = true): Command {
  return (engine ? addEngineFlags(cmd) : addBundleFlag(cmd))
    .option('--json', 'also print the report as one JSON object on the last line')
    .option('--save [name]', "also write the report with the machine, date and command line to bench/results/<name>.json (default: the benchmark's name), for npm run bench:report")
    .option('--note <text>', 'with --save: what else the machine was doing, or anything a reader of the figures should know');
}

/** Runs one benchmark: the report on stdout, then (--json) its JSON line; (--save) the saved run. */
async function report<R>(name: BenchmarkName, flags: Common, measure: (signal: AbortSignal) => Promise<R>, format: (r: R) => string): Promise<void> {
  const probe = machineProbe();
  const r = await measure(interruptSignal());
  const machine = probe.finish();
  process.stdout.write(`${format(r)}\n`);
  if (flags.save) {
    const file = saveRun(flags.save === true ? name : flags.save, {
      benchmark: name,
      command: commandLine(name),
      machine,
      bundle: bundleName(flags.bundle),
      ...(flags.note && { note: flags.note }),
      report: r,
    });
    process.stderr.write(`bench: saved ${path.relative(process.cwd(), file)} (npm run bench:report renders docs/benchmarks.md)\n`);
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
}

const progress = (name: string) => (message: string) => process.stderr.write(`bench ${name}: ${message}\n`);

interface ModelFlags extends Common {
  image?: string;
  goal?: string;
  iterations: number;
  rounds: number;
}

async function input(flags: ModelFlags): Promise<{ frame: Frame; goal: string }> {
  if (flags.image) return { frame: await loadImage(flags.image), goal: flags.goal ?? 'the object in the middle' };
  const [first] = await readReasonSeg(defaultDataDir());
  return { frame: await loadImage(first.image), goal: flags.goal ?? first.texts[0] };
}

function registerModel(program: Command): void {
  common(
    program
      .command('model', { isDefault: true })
      .description('(default) per-stage latency medians, end-to-end segment() against the same three engines run bare (overheadRatio), event-loop lag')
      .option('--image <file>', 'PNG/JPEG frame (default: the first ReasonSeg-Synth test image)')
      .option('-g, --goal <text>', "goal (default: that image's first query)")
      .option('-n, --iterations <n>', 'measured segment() calls (and as many bare runs)', positiveInt, 300)
      .option('--rounds <n>', 'blocks in which segment() and the bare runs alternate', positiveInt, 15),
  ).action(
    action((flags: ModelFlags) =>
      report(
        'model',
        flags,
        async (signal) => {
          const { frame, goal } = await input(flags);
          const r = await benchmark({
            bundleDir: flags.bundle,
            backend: flags.backend,
            threads: flags.threads,
            frame,
            goal,
            iterations: flags.iterations,
            rounds: flags.rounds,
            signal,
            onProgress: (done, total) => process.stderr.write(`bench model: ${done}/${total}\r`),
          });
          process.stderr.write('\n');
          return r;
        },
        formatModelBench,
      ),
    ),
  );
}

function registerBundles(program: Command): void {
  common(
    program
      .command('bundles')
      .description('per-frame latency of --bundle (the candidate, default: the embedded one) against --against (the baseline), alternating in one process, 640x480 frames (models/README.md)')
      .requiredOption('--against <dir>', 'the baseline bundle folder')
      .option('--calls <n>', 'segment() calls per bundle per round', positiveInt, 40)
      .option('--rounds <n>', 'rounds (each runs both, ABBA)', positiveInt, 12),
  ).action(
    action(async (flags: Common & { against: string; calls: number; rounds: number }) => {
      const { bundlesBenchmark, formatBundlesBench } = await import('./bundles.js');
      await report(
        'bundles',
        flags,
        (signal) =>
          bundlesBenchmark({
            bundleDir: flags.bundle,
            againstDir: flags.against,
            backend: flags.backend,
            threads: flags.threads,
            calls: flags.calls,
            rounds: flags.rounds,
            signal,
            onProgress: progress('bundles'),
          }),
        formatBundlesBench,
      );
    }),
  );
}

function registerKernels(program: Command): void {
  common(
    program
      .command('kernels')
      .description('the image/mask kernels: native vs TS reference, vs sharp, vs memcpy (docs/native.md)')
      .option('--rounds <n>', 'interleaved rounds; each candidate reports its best', positiveInt, 25),
    false,
  ).action(action((flags: Common & { rounds: number }) => report('kernels', flags, (signal) => benchmarkBundleKernels(flags.bundle, { rounds: flags.rounds, signal }), formatKernelReport)));
}

function registerStream(program: Command): void {
  common(
    program
      .command('stream')
      .description('dual-rate reasoning: fps and gIoU of per-frame, every-N, adaptive and goal-only reasoning on the moving sequences, event-loop lag, memory over a long run (docs/streaming.md)')
      .option('--frames <n>', 'frames of the long (memory) run', positiveInt, 5000)
      .option('--rounds <n>', 'passes of every policy over the sequences', positiveInt, 3)
      .option('--sequences <dir>', 'a folder of sequences (default: the moving sequences; models/data/reasonseg-synth/sequences-switch has goals whose answer changes)'),
  ).action(
    action((flags: Common & { frames: number; rounds: number; sequences?: string }) =>
      report(
        'stream',
        flags,
        (signal) =>
          streamBenchmark({
            bundleDir: flags.bundle,
            backend: flags.backend,
            threads: flags.threads,
            longFrames: flags.frames,
            rounds: flags.rounds,
            sequencesDir: flags.sequences,
            signal,
            onProgress: progress('stream'),
          }),
        formatStreamBench,
      ),
    ),
  );
}

function registerZmq(program: Command): void {
  common(
    program
      .command('zmq')
      .description('ZeroMQ: results/s, CPU and latency through an AnchorSegServer vs seg.stream() directly, 640x480 frames on loopback (docs/zmq-protocol.md)')
      .option('--frames <n>', 'frames per measured run', positiveInt, 60)
      .option('--rounds <n>', 'rounds (each runs both paths, both regimes)', positiveInt, 10)
      .option('--transport <t>', 'tcp (loopback TCP) or ipc (Unix domain sockets, for peers on the same host)', oneOf<ZmqTransport>(['tcp', 'ipc']), 'tcp'),
  ).action(
    action(async (flags: Common & { frames: number; rounds: number; transport: ZmqTransport }) => {
      // Loaded only here, so libzmq starts for this benchmark alone.
      const { zmqBenchmark, formatZmqBench } = await import('./zmq.js');
      await report(
        'zmq',
        flags,
        (signal) =>
          zmqBenchmark({
            bundleDir: flags.bundle,
            backend: flags.backend,
            threads: flags.threads,
            frames: flags.frames,
            rounds: flags.rounds,
            transport: flags.transport,
            signal,
            onProgress: progress('zmq'),
          }),
        formatZmqBench,
      );
    }),
  );
}

function registerRos(program: Command): void {
  common(
    program
      .command('ros')
      .description('ROS 2: camera-to-mask latency through anchorseg ros vs seg.stream() directly; run it as bash ros/with-ros.sh npm run bench -- ros (docs/ros2.md)')
      .option('--seconds <s>', 'seconds of camera frames per run', positiveNumber, 10)
      .option('--fps <n>', 'camera rate, frames per second', positiveNumber, 30)
      .option('--width <px>', 'camera frame width', positiveInt, 640)
      .option('--height <px>', 'camera frame height', positiveInt, 480)
      .option('--rounds <n>', 'rounds, each a direct run then a ROS 2 run', positiveInt, 1),
  ).action(
    action(async (flags: Common & { seconds: number; fps: number; width: number; height: number; rounds: number }) => {
      const { rosBenchmark, formatRosBench } = await import('./ros.js');
      await report(
        'ros',
        flags,
        (signal) =>
          rosBenchmark({
            bundleDir: flags.bundle,
            backend: flags.backend,
            threads: flags.threads,
            seconds: flags.seconds,
            fps: flags.fps,
            width: flags.width,
            height: flags.height,
            rounds: flags.rounds,
            signal,
            onProgress: progress('ros'),
          }),
        formatRosBench,
      );
    }),
  );
}

function registerView(program: Command): void {
  common(
    program
      .command('view')
      .description('the live viewer: results/s of a stream host with a viewer and a connected page / without, 640x480 frames, same run (docs/viewer.md)')
      .option('--frames <n>', 'frames per measured run', positiveInt, 500)
      .option('--rounds <n>', 'rounds (each runs both, ABBA, so bursts of load fall on both)', positiveInt, 12),
  ).action(
    action(async (flags: Common & { frames: number; rounds: number }) => {
      const { viewBenchmark, formatViewBench } = await import('./view.js');
      await report(
        'view',
        flags,
        (signal) => viewBenchmark({ bundleDir: flags.bundle, backend: flags.backend, threads: flags.threads, frames: flags.frames, rounds: flags.rounds, signal, onProgress: progress('view') }),
        formatViewBench,
      );
    }),
  );
}

function registerSoak(program: Command): void {
  common(
    program
      .command('soak')
      .description(
        'a long stream of the committed sequences: RSS, heap, open fds, threads and event-loop lag over time; verdict: RSS growth after warm-up <= 2%, fds and threads flat (docs/robustness.md)',
      )
      .option('--minutes <n>', 'how long to stream', positiveNumber, 30)
      .option('--sample <s>', 'seconds between samples (default: about 120 samples, 1 to 30 s apart)', positiveNumber)
      .option('--sequences <dir>', 'a folder of sequences (default: the committed moving sequences)'),
  ).action(
    action((flags: Common & { minutes: number; sample?: number; sequences?: string }) =>
      report(
        'soak',
        flags,
        (signal) =>
          soakBenchmark({
            bundleDir: flags.bundle,
            backend: flags.backend,
            threads: flags.threads,
            minutes: flags.minutes,
            sampleSeconds: flags.sample,
            sequencesDir: flags.sequences,
            signal,
            onProgress: progress('soak'),
          }),
        formatSoakBench,
      ),
    ),
  );
}

const program = new Command('bench')
  .description("the repository's benchmarks: npm run bench -- <benchmark> [--json] [--save [name]]; npm run bench:report renders bench/results/*.json into docs/benchmarks.md")
  .showHelpAfterError('(run with --help for usage)');
for (const register of [registerModel, registerBundles, registerKernels, registerStream, registerZmq, registerRos, registerView, registerSoak]) register(program);
await program.parseAsync();
