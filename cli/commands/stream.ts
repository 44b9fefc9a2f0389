import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { AnchorSegError } from '../../sdk/base/errors.js';
import type { Frame } from '../../sdk/base/frame.js';
import { LiveView, modelLine } from '../live-view.js';
import type { DropMode } from '../../sdk/stream/intake.js';
import { StreamHost } from '../../sdk/stream/host.js';
import { StreamWriter } from '../../sdk/stream/sinks.js';
import { imageFolder, paced, playSequences, readSequence } from '../../sdk/stream/sources.js';
import { addReasonFlags, reasonFromFlags } from '../param-flags.js';
import { action, addEngineFlags, interruptSignal, oneOf, openSegmenter, positiveNumber, type EngineFlags } from '../run.js';

interface Flags extends EngineFlags {
  goal?: string;
  out: string;
  drop?: DropMode;
  fps?: number;
  masks: boolean;
  overlays: boolean;
  gif: boolean;
}

export function register(program: Command): void {
  addReasonFlags(
    addEngineFlags(
      program
        .command('stream')
        .description('segment a stream of frames (a folder of PNG/JPEG images or a ReasonSeg-Synth sequence folder); writes masks/, overlays/ and results.jsonl')
        .argument('<source>', 'folder of images (name order) or sequence folder (with sequence.json)')
        .option('-g, --goal <text>', 'what to find (default for a sequence: its goal)')
        .option('-o, --out <dir>', 'output folder', path.join('out', 'stream'))
        .option('--fps <n>', 'play the frames like a camera at n frames per second (then latest frame wins by default)', positiveNumber)
        .option('--drop <mode>', 'latest (drop frames that arrive while busy) or none (every frame); default: none, or latest with --fps', oneOf<DropMode>(['latest', 'none']))
        .option('--no-masks', 'skip masks/*.png')
        .option('--no-overlays', 'skip overlays/*.png')
        .option('--gif', 'write preview.gif'),
    ),
  ).action(action(run));
}

async function run(source: string, flags: Flags): Promise<void> {
  const signal = interruptSignal();
  const isSequence = await stat(path.join(source, 'sequence.json')).then(
    () => true,
    () => false,
  );
  const sequence = isSequence ? await readSequence(source) : undefined;
  const goal = flags.goal ?? sequence?.goal;
  if (goal === undefined) throw new AnchorSegError('ERR_INVALID_ARG', `Expected --goal for ${source} (only a sequence folder brings its own goal) but received none`);
  const frames: AsyncIterable<Frame> = sequence ? playSequences([sequence]) : imageFolder(source);
  const total = sequence?.frames.length;
  const reason = reasonFromFlags(flags as unknown as Record<string, unknown>);
  const seg = await openSegmenter(flags, signal);
  try {
    process.stdout.write(`${modelLine(seg.manifest)}; backend ${seg.backend}\n`);
    const understood = seg.tokenize(goal);
    if (understood.unknown.length) process.stderr.write(`anchorseg: words not in the model's vocabulary (read as unknown): ${understood.unknown.join(', ')}\n`);
    const host = new StreamHost({ goal, source: flags.fps ? paced(frames, flags.fps) : frames, drop: flags.drop ?? (flags.fps ? 'latest' : 'none'), reason, signal });
    // Opened at the first result: a source that fails at once leaves no output folder behind.
    let writer: StreamWriter | undefined;
    const view = new LiveView(process.stdout, total);
    try {
      await host.run(seg, {
        onResult: async (r) => {
          writer ??= await StreamWriter.open(flags.out, { masks: flags.masks, overlays: flags.overlays, ...(flags.gif && { gif: { fps: flags.fps ?? sequence?.fps ?? 10 } }) });
          await writer.write(r);
          view.update(r, { ...host.counters, fps: host.fps });
        },
      });
    } finally {
      await host.close();
      await writer?.close();
    }
    const c = host.counters;
    view.finish([
      `${signal.aborted ? 'interrupted after' : 'done:'} ${c.results} results from ${c.received} frames (${c.dropped} dropped, ${c.invalid} invalid), ${host.fps.toFixed(1)} fps`,
      writer ? `written to ${flags.out}` : 'nothing written',
    ]);
  } finally {
    await seg.close();
  }
}
