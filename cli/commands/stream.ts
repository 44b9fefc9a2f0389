import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { AnchorSegError } from '../../sdk/base/errors.js';
import type { Frame } from '../../sdk/base/frame.js';
import { LiveView, modelLine } from '../live-view.js';
import type { DropMode } from '../../sdk/stream/intake.js';
import { StreamHost } from '../../sdk/stream/host.js';
import { StreamWriter } from '../../sdk/stream/sinks.js';
import { imageFolder, paced, playSequences, readSequence, type Sequence } from '../../sdk/stream/sources.js';
import { gstreamerSource, videoSource, type SourceOptions } from '../../sdk/stream/video.js';
import type { RestartEvent, VideoSource } from '../../sdk/stream/video-process.js';
import { addReasonFlags, reasonFromFlags } from '../param-flags.js';
import { action, addEngineFlags, interruptSignal, nonNegativeInt, oneOf, openSegmenter, positiveInt, positiveNumber, type EngineFlags } from '../run.js';
import { addViewFlags, openViewer, viewAddress, type ViewFlags } from '../viewer/flags.js';

interface Flags extends EngineFlags, ViewFlags {
  input?: string;
  gst?: string;
  inputFormat?: string;
  width?: number;
  height?: number;
  realtime?: boolean;
  restarts?: number;
  restartDelay?: number;
  restartMaxDelay?: number;
  goal?: string;
  out: string;
  drop?: DropMode;
  fps?: number;
  masks: boolean;
  overlays: boolean;
  gif: boolean;
}

export function register(program: Command): void {
  addViewFlags(addReasonFlags(
    addEngineFlags(
      program
        .command('stream')
        .description(
          'segment a stream of frames: a folder of PNG/JPEG images, a ReasonSeg-Synth sequence folder, a video file, an rtsp:// stream or a camera (--input, via ffmpeg), or a GStreamer pipeline (--gst); writes masks/, overlays/ and results.jsonl',
        )
        .argument('[source]', 'folder of images (name order) or sequence folder (with sequence.json)')
        .option('-i, --input <uri>', 'video file, stream URL (rtsp://, http://, udp://) or camera (/dev/videoN), decoded by ffmpeg (docs/sources.md)')
        .option('--gst <pipeline>', 'GStreamer source pipeline for gst-launch-1.0, e.g. "videotestsrc" or "nvarguscamerasrc ! nvvidconv" (anchorseg appends the RGB conversion and sink)')
        .option('--input-format <fmt>', 'ffmpeg input format for --input (ffmpeg -f), e.g. v4l2, lavfi')
        .option('--width <px>', 'scale --input/--gst frames to this width (default: the input size; height kept in proportion)', positiveInt)
        .option('--height <px>', 'scale --input/--gst frames to this height', positiveInt)
        .option('--realtime', 'read an --input file at its own frame rate, as a camera delivers (then latest frame wins)')
        .option('--restarts <n>', 'live --input/--gst: restarts in a row after the stream is lost before giving up (default 5)', nonNegativeInt)
        .option('--restart-delay <ms>', 'live --input/--gst: wait before the first restart, doubling each time (default 500)', positiveNumber)
        .option('--restart-max-delay <ms>', 'live --input/--gst: bound on the wait between restarts (default 8000)', positiveNumber)
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
  )).action(action(run));
}

/** The frames to segment and what is known about them. */
interface Input {
  frames: AsyncIterable<Frame>;
  drop: DropMode;
  sequence?: Sequence;
  video?: VideoSource;
  fps?: number;
}

async function openInput(source: string | undefined, flags: Flags, signal: AbortSignal): Promise<Input> {
  const given = [source !== undefined && '<source>', flags.input !== undefined && '--input', flags.gst !== undefined && '--gst'].filter(Boolean);
  if (given.length !== 1) throw new AnchorSegError('ERR_INVALID_ARG', `Expected one of <source>, --input or --gst but received ${given.length ? given.join(' and ') : 'none'}`);
  if (source !== undefined) {
    const isSequence = await stat(path.join(source, 'sequence.json')).then(
      () => true,
      () => false,
    );
    const sequence = isSequence ? await readSequence(source) : undefined;
    const frames = sequence ? playSequences([sequence]) : imageFolder(source);
    return { frames: flags.fps ? paced(frames, flags.fps) : frames, drop: flags.drop ?? (flags.fps ? 'latest' : 'none'), sequence, fps: flags.fps ?? sequence?.fps };
  }
  const restart = defined({ attempts: flags.restarts, initialDelayMs: flags.restartDelay, maxDelayMs: flags.restartMaxDelay });
  const options: SourceOptions = {
    width: flags.width,
    height: flags.height,
    fps: flags.fps,
    drop: flags.drop ?? (flags.realtime ? 'latest' : undefined),
    // None of the flags: the source's default (a live input restarts, a file does not).
    restart: flags.restarts === 0 ? false : Object.keys(restart).length ? restart : undefined,
    onRestart: (e: RestartEvent) => process.stderr.write(`anchorseg: input lost (${e.reason}); restart ${e.attempt} of ${e.attempts} in ${(e.delayMs / 1000).toFixed(1)} s\n`),
    signal,
  };
  const video = flags.gst
    ? await gstreamerSource(flags.gst, options)
    : await videoSource(flags.input!, { ...options, ...(flags.inputFormat && { inputOptions: ['-f', flags.inputFormat] }), ...(flags.realtime && { realtime: true }) });
  return { frames: video, drop: video.drop, video, fps: video.fps };
}

/** `o` without its undefined entries (an undefined restart option would replace its default). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

async function run(source: string | undefined, flags: Flags): Promise<void> {
  const signal = interruptSignal();
  const input = await openInput(source, flags, signal);
  const { sequence, video } = input;
  try {
    const goal = flags.goal ?? sequence?.goal;
    if (goal === undefined) throw new AnchorSegError('ERR_INVALID_ARG', `Expected --goal for ${source ?? flags.input ?? flags.gst} (only a sequence folder brings its own goal) but received none`);
    const reason = reasonFromFlags(flags as unknown as Record<string, unknown>);
    viewAddress(flags);
    const seg = await openSegmenter(flags, signal);
    try {
      process.stdout.write(`${modelLine(seg.manifest)}; backend ${seg.backend}\n`);
      if (video)
        process.stdout.write(
          `input    ${video.description}: ${video.width}x${video.height}${video.fps ? ` at ${+video.fps.toFixed(2)} fps` : ''}, ${video.live ? 'live' : 'file'}, drop ${video.drop}\n`,
        );
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
      view.finish([
        `${signal.aborted ? 'interrupted after' : 'done:'} ${c.results} results from ${c.received} frames (${c.dropped} dropped, ${c.invalid} invalid${restarts}), ${host.fps.toFixed(1)} fps`,
        writer ? `written to ${flags.out}` : 'nothing written',
      ]);
      if (signal.aborted) process.exitCode = 130;
    } finally {
      await seg.close();
    }
  } finally {
    await video?.close();
  }
}
