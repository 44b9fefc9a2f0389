import path from 'node:path';
import type { Command } from 'commander';
import { AnchorSegError } from '../../sdk/base/errors.js';
import { LiveView, modelLine } from '../live-view.js';
import type { DropMode } from '../../sdk/stream/intake.js';
import { StreamHost } from '../../sdk/stream/host.js';
import { StreamWriter } from '../../sdk/stream/sinks.js';
import { addInputFlags, describeVideo, openInput, type InputFlags } from '../inputs.js';
import { addReasonFlags, reasonFromFlags } from '../param-flags.js';
import { action, addEngineFlags, interruptSignal, oneOf, openSegmenter, positiveNumber, type EngineFlags } from '../run.js';
import { addViewFlags, openViewer, viewAddress, type ViewFlags } from '../viewer/flags.js';

interface Flags extends EngineFlags, ViewFlags, InputFlags {
  goal?: string;
  out: string;
  masks: boolean;
  overlays: boolean;
  gif: boolean;
}

export function register(program: Command): void {
  addViewFlags(
    addReasonFlags(
      addEngineFlags(
        addInputFlags(
          program
            .command('stream')
            .description(
              'segment a stream of frames: a folder of PNG/JPEG images, a ReasonSeg-Synth sequence folder, a video file, an rtsp:// stream or a camera (--input, via ffmpeg), or a GStreamer pipeline (--gst); writes masks/, overlays/ and results.jsonl',
            ),
        )
          .option('-g, --goal <text>', 'what to find (default for a sequence: its goal)')
          .option('-o, --out <dir>', 'output folder', path.join('out', 'stream'))
          .option('--fps <n>', 'folders: play the frames like a camera at n frames per second (then latest frame wins by default); --input/--gst: the output frame rate', positiveNumber)
          .option(
            '--drop <mode>',
            'latest (drop frames that arrive while busy) or none (every frame); default: latest for a camera, stream or --fps/--realtime, else none',
            oneOf<DropMode>(['latest', 'none']),
          )
          .option('--no-masks', 'skip masks/*.png')
          .option('--no-overlays', 'skip overlays/*.png')
          .option('--gif', 'write preview.gif'),
      ),
    ),
  ).action(action(run));
}

async function run(source: string | undefined, flags: Flags): Promise<void> {
  const signal = interruptSignal();
  const input = await openInput(source, flags, signal);
  const { sequence, video } = input;
  try {
    const goal = flags.goal ?? sequence?.goal;
    if (goal === undefined) throw new AnchorSegError('ERR_INVALID_ARG', `Expected --goal for ${input.name} (only a sequence folder brings its own goal) but received none`);
    const reason = reasonFromFlags(flags as unknown as Record<string, unknown>);
    viewAddress(flags);
    const seg = await openSegmenter(flags, signal);
    try {
      process.stdout.write(`${modelLine(seg.manifest)}; backend ${seg.backend}\n`);
      if (video) process.stdout.write(`${describeVideo(video)}\n`);
      const understood = seg.tokenize(goal);
      if (understood.unknown.length) process.stderr.write(`anchorseg: words not in the model's vocabulary (read as unknown): ${understood.unknown.join(', ')}\n`);
      const host = new StreamHost({ goal, source: input.frames, drop: input.drop, reason, signal });
      // Opened at the first result: a source that fails at once leaves no output folder behind.
      let writer: StreamWriter | undefined;
      const view = new LiveView(process.stdout, sequence?.frames.length);
      // The page changes the goal as the goal flag would: the host reads it at its next frame.
      const viewer = await openViewer(host, flags);
      try {
        await host.run(seg, {
          onResult: async (r) => {
            writer ??= await StreamWriter.open(flags.out, { masks: flags.masks, overlays: flags.overlays, ...(flags.gif && { gif: { fps: input.fps ?? 10 } }) });
            await writer.write(r);
            view.update(r, { ...host.counters, fps: host.fps });
          },
        });
      } finally {
        await viewer?.close();
        await host.close();
        await writer?.close();
      }
      const c = host.counters;
      const restarts = video ? `, ${video.counters.restarts} input restarts` : '';
      const unreadable = input.unreadable() ? `, ${input.unreadable()} unreadable files skipped` : '';
      view.finish([
        `${signal.aborted ? 'interrupted after' : 'done:'} ${c.results} results from ${c.received} frames (${c.dropped} dropped, ${c.invalid} invalid${restarts}${unreadable}), ${host.fps.toFixed(1)} fps`,
        writer ? `written to ${flags.out}` : 'nothing written',
      ]);
    } finally {
      await seg.close();
    }
  } finally {
    await video?.close();
  }
}
