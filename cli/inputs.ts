import type { Command } from 'commander';
import { AnchorSegError } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import type { DropMode } from '../sdk/stream/intake.js';
import type { Sequence } from '../sdk/stream/sources.js';
import { gstreamerSource, videoSource, type SourceOptions } from '../sdk/stream/video.js';
import type { RestartEvent, VideoSource } from '../sdk/stream/video-process.js';
import { localSource } from './local-source.js';
import { nonNegativeInt, positiveInt, positiveNumber } from './run.js';

/** The frame inputs of `stream` and `view`: one of a `[source]` folder, `--input` (ffmpeg) or `--gst`. */
export interface InputFlags {
  input?: string;
  gst?: string;
  inputFormat?: string;
  width?: number;
  height?: number;
  realtime?: boolean;
  restarts?: number;
  restartDelay?: number;
  restartMaxDelay?: number;
  fps?: number;
  drop?: DropMode;
}

/** The frames to segment and what is known about them. */
export interface Input {
  frames: AsyncIterable<Frame>;
  drop: DropMode;
  sequence?: Sequence;
  video?: VideoSource;
  fps?: number;
  /** What the frames come from, for messages. */
  name: string;
  /** Image-folder files skipped as undecodable so far (each reported on stderr). */
  readonly unreadable: () => number;
}

/** `[source]`, `--input`, `--gst` and the video options, with the same meaning on every command that takes them. */
export function addInputFlags(cmd: Command): Command {
  return cmd
    .argument('[source]', 'folder of images (name order), sequence folder (with sequence.json) or bundled sequence name (seq00..)')
    .option('-i, --input <uri>', 'video file, stream URL (rtsp://, http://, udp://) or camera (/dev/videoN), decoded by ffmpeg (docs/sources.md)')
    .option('--gst <pipeline>', 'GStreamer source pipeline for gst-launch-1.0, e.g. "videotestsrc" or "nvarguscamerasrc ! nvvidconv" (anchorseg appends the RGB conversion and sink)')
    .option('--input-format <fmt>', 'ffmpeg input format for --input (ffmpeg -f), e.g. v4l2, lavfi')
    .option('--width <px>', 'scale --input/--gst frames to this width (default: the input size; height kept in proportion)', positiveInt)
    .option('--height <px>', 'scale --input/--gst frames to this height', positiveInt)
    .option('--realtime', 'read an --input file at its own frame rate, as a camera delivers (then latest frame wins)')
    .option('--restarts <n>', 'live --input/--gst: restarts in a row after the stream is lost before giving up (default 5)', nonNegativeInt)
    .option('--restart-delay <ms>', 'live --input/--gst: wait before the first restart, doubling each time (default 500)', positiveNumber)
    .option('--restart-max-delay <ms>', 'live --input/--gst: bound on the wait between restarts (default 8000)', positiveNumber);
}

/** Whether any input was named (`view` falls back to the bundled sequences when none was). */
export function inputGiven(source: string | undefined, flags: InputFlags): boolean {
  return source !== undefined || flags.input !== undefined || flags.gst !== undefined;
}

/**
 * Opens the one input named. A folder is played once as fast as the model goes unless `fps` (or
 * `live`) paces it like a camera; `live` also repeats it until stopped.
 */
export async function openInput(source: string | undefined, flags: InputFlags, signal: AbortSignal, live = false): Promise<Input> {
  const given = [source !== undefined && '<source>', flags.input !== undefined && '--input', flags.gst !== undefined && '--gst'].filter(Boolean);
  if (given.length !== 1) throw new AnchorSegError('ERR_INVALID_ARG', `Expected one of <source>, --input or --gst but received ${given.length ? given.join(' and ') : 'none'}`);
  if (source !== undefined) {
    const pace = live || flags.fps !== undefined;
    const local = await localSource({ source, fps: flags.fps, pace, loop: live });
    return { frames: local.frames, drop: flags.drop ?? local.drop, sequence: local.sequence, fps: flags.fps ?? local.sequence?.fps, name: source, unreadable: local.unreadable };
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
  return { frames: video, drop: video.drop, video, fps: video.fps, name: video.description, unreadable: () => 0 };
}

/** The line that says what a video input is. */
export function describeVideo(video: VideoSource): string {
  return `input    ${video.description}: ${video.width}x${video.height}${video.fps ? ` at ${+video.fps.toFixed(2)} fps` : ''}, ${video.live ? 'live' : 'file'}, drop ${video.drop}`;
}

/** `o` without its undefined entries (an undefined restart option would replace its default). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
