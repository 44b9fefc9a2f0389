#!/usr/bin/env node
/** `npm run bench -- ...`: the repository's benchmarks (not shipped in the package; docs/benchmarks.md). */
import { Command } from 'commander';
import { benchmark } from './model.js';
import { defaultDataDir } from '../sdk/evaluate.js';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { readReasonSeg } from '../sdk/data/reasonseg.js';
import { action, addEngineFlags, interruptSignal, oneOf, positiveInt, type EngineFlags } from '../cli/run.js';
import { streamBench } from './stream.js';
import type { ZmqTransport } from './zmq.js';
import { benchKernels } from './kernels.js';

interface Flags extends EngineFlags {
  image?: string;
  goal?: string;
  iterations: number;
  json?: boolean;
  stream?: boolean;
  streamFrames: number;
  streamRounds: number;
  sequences?: string;
  kernels?: boolean;
  zmq?: boolean;
  zmqFrames: number;
  zmqRounds: number;
  zmqTransport: ZmqTransport;
}

function register(program: Command): void {
  addEngineFlags(
    program
      .description('per-stage latency, end-to-end segment() latency vs bare engine runs (overheadRatio), event-loop lag')
      .option('--image <file>', 'PNG/JPEG frame (default: the first ReasonSeg-Synth test image)')
      .option('-g, --goal <text>', "goal (default: that image's first query)")
      .option('-n, --iterations <n>', 'measured segment() calls', positiveInt, 300)
      .option('--json', 'print the report as one JSON object on the last line')
      .option('--stream', 'streaming instead: fps and gIoU of per-frame, every-N and adaptive reasoning on the moving sequences, event-loop lag, memory over a long run (docs/streaming.md)')
      .option('--stream-frames <n>', 'with --stream: frames of the long (memory) run', positiveInt, 5000)
      .option('--stream-rounds <n>', 'with --stream: passes of every policy over the sequences', positiveInt, 3)
      .option('--sequences <dir>', 'with --stream: a folder of sequences (default: the moving sequences; models/data/reasonseg-synth/sequences-switch has goals whose answer changes)')
      .option('--kernels', 'the image/mask kernels instead: native vs TS reference, vs sharp, vs memcpy (docs/native.md)')
      .option('--zmq', 'ZeroMQ instead: results/s and latency through anchorseg serve vs seg.stream() directly, 640x480 frames on loopback (docs/zmq-protocol.md)')
      .option('--zmq-frames <n>', 'with --zmq: frames per measured run', positiveInt, 60)
      .option('--zmq-rounds <n>', 'with --zmq: rounds (each runs both paths, both regimes)', positiveInt, 10)
      .option('--zmq-transport <t>', 'with --zmq: tcp (loopback TCP) or ipc (Unix domain sockets, for peers on the same host)', oneOf<ZmqTransport>(['tcp', 'ipc']), 'tcp'),
  ).action(
    action(async (flags: Flags) => {
      if (flags.kernels) return benchKernels(flags.bundle, flags.json === true, interruptSignal());
      if (flags.stream) return streamBench(flags);
      // Loaded only here, so libzmq starts for this benchmark alone.
      if (flags.zmq) return (await import('./zmq.js')).zmqBench(flags);
      return run(flags);
    }),
  );
}

async function run(flags: Flags): Promise<void> {
  const signal = interruptSignal();
  const { frame, goal } = await input(flags);
  const r = await benchmark({
    bundleDir: flags.bundle,
    backend: flags.backend,
    threads: flags.threads,
    frame,
    goal,
    iterations: flags.iterations,
    signal,
    onProgress: (done, total) => process.stderr.write(`bench: ${done}/${total}\r`),
  });
  process.stderr.write('\n');
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const lines = [
    `backend ${r.backend}, kernels ${r.kernels}, threads ${r.threads ?? 'default'}, frame ${r.frame.width}x${r.frame.height} ${r.frame.encoding}, ${r.iterations} runs (medians)`,
    ...Object.entries(r.stages).map(([k, v]) => `  ${k.padEnd(12)} ${ms(v)}`),
    `  segment()    ${ms(r.segmentMs)}  end to end`,
    `  bare engines ${ms(r.rawEnginesMs)}  (${Object.entries(r.rawStages).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})`,
    `overheadRatio ${r.overheadRatio.toFixed(3)}  eventLoopLagP99Ms ${r.eventLoopLagP99Ms.toFixed(2)}  (max ${r.eventLoopLagMaxMs.toFixed(2)})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function input(flags: Flags): Promise<{ frame: Frame; goal: string }> {
  if (flags.image) return { frame: await loadImage(flags.image), goal: flags.goal ?? 'the object in the middle' };
  const [first] = await readReasonSeg(defaultDataDir());
  return { frame: await loadImage(first.image), goal: flags.goal ?? first.texts[0] };
}

const program = new Command('bench').showHelpAfterError('(run with --help for usage)');
register(program);
await program.parseAsync();
