/**
 * Video files, network streams and cameras as frame sources (docs/sources.md): `videoSource()`
 * decodes through an ffmpeg child process, `gstreamerSource()` through gst-launch-1.0; both
 * hand out rgb8 frames of one size (./video-process.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { abortError, AnchorSegError, invalidArg } from '../base/errors.js';
import { MAX_SIDE } from '../base/frame.js';
import type { DropMode } from './intake.js';
import { checkBag } from './policy.js';
import { stopChild, toolMissing, VideoSource, type Launch, type RestartEvent, type RestartOptions, type Tool } from './video-process.js';

const FFMPEG_INSTALL = 'FFmpeg (Debian, Ubuntu, JetPack: sudo apt install ffmpeg; macOS: brew install ffmpeg)';
export const FFMPEG: Tool = { program: 'ffmpeg', install: FFMPEG_INSTALL };
export const FFPROBE: Tool = { program: 'ffprobe', install: `${FFMPEG_INSTALL}, which brings ffprobe` };
export const GST_LAUNCH: Tool = {
  program: 'gst-launch-1.0',
  install: "GStreamer's tools and base plugins (Debian, Ubuntu: sudo apt install gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good; JetPack ships them)",
};

/** Options of both sources. */
export interface SourceOptions {
  /** Output width in pixels (frames are scaled); default the input's, or kept in proportion to `height`. */
  width?: number;
  /** Output height in pixels; default the input's, or kept in proportion to `width`. */
  height?: number;
  /** Output frame rate (frames are dropped or repeated by the decoder); default the input's. */
  fps?: number;
  /** A camera or network stream (default: anything but a regular file): latest frame wins, restarts, wall-clock stamps. */
  live?: boolean;
  /** `'latest'` (default when live): only the newest frame waits, older ones are dropped and counted. `'none'` (default for a file): the decoder waits for the consumer. */
  drop?: DropMode;
  /** Restarts after the decoder stopped (default for live sources: 5 in a row, 500 ms doubling up to 8 s; a file: none). `false`: none. */
  restart?: RestartOptions | false;
  /** Told of every restart scheduled (attempt, delay, why the decoder stopped). */
  onRestart?: (event: RestartEvent) => void;
  /** Aborting closes the source. */
  signal?: AbortSignal;
  /** Put into every frame (sensor_msgs/Image's header.frame_id). */
  frameId?: string;
  /** How long finding the input's frame size may take (ffprobe, or a GStreamer negotiation); default 15000 ms. */
  probeTimeoutMs?: number;
}

export interface VideoSourceOptions extends SourceOptions {
  /** ffmpeg options before `-i`, e.g. `['-f', 'lavfi']`, `['-rtsp_transport', 'tcp']`, `['-f', 'v4l2', '-input_format', 'mjpeg']`. */
  inputOptions?: string[];
  /** Read a file at its own frame rate (ffmpeg `-re`), as a camera delivers. */
  realtime?: boolean;
}

export type GstreamerSourceOptions = SourceOptions;

const SOURCE_KEYS = ['width', 'height', 'fps', 'live', 'drop', 'restart', 'onRestart', 'signal', 'frameId', 'probeTimeoutMs'] as const;
const RESTART_DEFAULTS: Required<RestartOptions> = { attempts: 5, initialDelayMs: 500, maxDelayMs: 8000, factor: 2 };
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const V4L2_DEVICE = /^\/dev\/video\d+$/;

interface Probed {
  width: number;
  height: number;
  fps: number | undefined;
}

/**
 * Frames of a video file, a network stream (`rtsp://`, `http://`, `udp://`, ...) or a V4L2 camera
 * (`/dev/videoN`), decoded by `ffmpeg` from the PATH into rgb8. The frame size comes from
 * `width`/`height` or from `ffprobe`.
 */
export async function videoSource(uri: string, options: VideoSourceOptions = {}): Promise<VideoSource> {
  if (typeof uri !== 'string' || uri.length === 0) throw invalidArg('uri', 'a video file, a URL (rtsp://...) or a camera device (/dev/videoN)', uri);
  const o = checkBag(options, 'options', [...SOURCE_KEYS, 'inputOptions', 'realtime']) as VideoSourceOptions;
  const common = checkCommon(o);
  const inputOptions = o.inputOptions ?? [];
  if (!Array.isArray(inputOptions) || !inputOptions.every((a) => typeof a === 'string')) throw invalidArg('options.inputOptions', 'an array of strings', inputOptions);
  const hasFormat = inputOptions.includes('-f');
  let isFile = false;
  if (!URL_SCHEME.test(uri) && !V4L2_DEVICE.test(uri) && !hasFormat) {
    // A path: it must be there (an input format such as lavfi takes other strings).
    const s = await stat(uri).catch((err: NodeJS.ErrnoException) => {
      throw invalidArg('uri', 'a video file, a URL (rtsp://...) or a camera device (/dev/videoN)', `${uri} (${err.code ?? err.message})`);
    });
    isFile = s.isFile();
  }
  const input = [...(V4L2_DEVICE.test(uri) && !hasFormat ? ['-f', 'v4l2'] : []), ...inputOptions, '-i', uri];
  const probed = common.width && common.height ? undefined : await ffprobe(input, common.probeTimeoutMs, common.signal);
  const { width, height } = outputSize(common, probed);
  const fps = common.fps ?? probed?.fps;
  const filters = [...(common.fps ? [`fps=${common.fps}`] : []), `scale=${width}:${height}`];
  const launch: Launch = {
    tool: FFMPEG,
    args: ['-hide_banner', '-nostdin', '-loglevel', 'error', ...(o.realtime ? ['-re'] : []), ...input, '-an', '-sn', '-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    stopSignal: 'SIGTERM',
  };
  return makeSource(launch, `ffmpeg ${uri}`, width, height, fps, common.live ?? !isFile, common);
}

/**
 * Frames of a GStreamer pipeline run by `gst-launch-1.0` from the PATH: `pipeline` is its source
 * part (e.g. `videotestsrc`, `v4l2src device=/dev/video0`, `nvarguscamerasrc ! nvvidconv`),
 * written as on gst-launch's command line; anchorseg appends the conversion to rgb8 at the
 * output size and an `fdsink`. The frame size comes from `width`/`height` or from a short
 * negotiation run of the pipeline.
 */
export async function gstreamerSource(pipeline: string, options: GstreamerSourceOptions = {}): Promise<VideoSource> {
  if (typeof pipeline !== 'string' || pipeline.trim().length === 0) throw invalidArg('pipeline', 'a GStreamer pipeline (gst-launch-1.0 syntax)', pipeline);
  const common = checkCommon(checkBag(options, 'options', SOURCE_KEYS) as SourceOptions);
  const tokens = splitPipeline(pipeline);
  const probed = common.width && common.height ? undefined : await probeGstreamer(tokens, common.probeTimeoutMs, common.signal);
  const { width, height } = outputSize(common, probed);
  const rate = common.fps ? [`framerate=${fraction(common.fps)}`] : [];
  const caps = ['video/x-raw', 'format=RGB', `width=${width}`, `height=${height}`, ...rate].join(',');
  const launch: Launch = {
    tool: GST_LAUNCH,
    // -q: nothing but frames on stdout; -e: SIGINT sends EOS, so a camera (Argus) is released in order.
    args: ['-q', '-e', ...tokens, '!', ...(common.fps ? ['videorate', '!'] : []), 'videoconvert', '!', 'videoscale', '!', caps, '!', 'fdsink', 'fd=1', 'sync=false'],
    stopSignal: 'SIGINT',
  };
  return makeSource(launch, `gst-launch-1.0 ${pipeline.trim()}`, width, height, common.fps ?? probed?.fps, common.live ?? true, common);
}

/** Splits a pipeline as a shell would for gst-launch-1.0: on blanks outside quotes, quotes removed. */
export function splitPipeline(text: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let quoted = false;
  let quote: string | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else token += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      quoted = true;
    } else if (/\s/.test(ch)) {
      if (token || quoted) tokens.push(token);
      token = '';
      quoted = false;
    } else token += ch;
  }
  if (quote) throw invalidArg('pipeline', 'balanced quotes', text);
  if (token || quoted) tokens.push(token);
  if (tokens[0] === '!' || tokens.at(-1) === '!') throw invalidArg('pipeline', 'elements between the "!" links (anchorseg appends the sink)', text);
  return tokens;
}

function checkCommon(o: SourceOptions): SourceOptions & { probeTimeoutMs: number } {
  for (const key of ['width', 'height'] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1 && v <= MAX_SIDE)) throw invalidArg(`options.${key}`, `an integer between 1 and ${MAX_SIDE}`, v);
  }
  if (o.fps !== undefined && !(typeof o.fps === 'number' && o.fps > 0 && Number.isFinite(o.fps))) throw invalidArg('options.fps', 'a finite number > 0', o.fps);
  if (o.live !== undefined && typeof o.live !== 'boolean') throw invalidArg('options.live', 'a boolean', o.live);
  if (o.drop !== undefined && o.drop !== 'latest' && o.drop !== 'none') throw invalidArg('options.drop', "'latest' or 'none'", o.drop);
  if (o.onRestart !== undefined && typeof o.onRestart !== 'function') throw invalidArg('options.onRestart', 'a function', o.onRestart);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArg('options.signal', 'an AbortSignal', o.signal);
  if (o.frameId !== undefined && typeof o.frameId !== 'string') throw invalidArg('options.frameId', 'a string', o.frameId);
  const probeTimeoutMs = o.probeTimeoutMs ?? 15_000;
  if (!(typeof probeTimeoutMs === 'number' && probeTimeoutMs > 0)) throw invalidArg('options.probeTimeoutMs', 'a number > 0', probeTimeoutMs);
  if (o.signal?.aborted) throw abortError(o.signal);
  return { ...o, probeTimeoutMs };
}

function checkRestart(restart: RestartOptions | false | undefined, live: boolean): Required<RestartOptions> | false {
  if (restart === false || (restart === undefined && !live)) return false;
  const r = { ...RESTART_DEFAULTS, ...(checkBag(restart, 'options.restart', Object.keys(RESTART_DEFAULTS)) as RestartOptions) };
  if (!(r.attempts === Infinity || (Number.isInteger(r.attempts) && r.attempts >= 0))) throw invalidArg('options.restart.attempts', 'an integer >= 0 or Infinity', r.attempts);
  for (const key of ['initialDelayMs', 'maxDelayMs'] as const) {
    if (!(typeof r[key] === 'number' && r[key] >= 0 && Number.isFinite(r[key]))) throw invalidArg(`options.restart.${key}`, 'a finite number >= 0', r[key]);
  }
  if (!(typeof r.factor === 'number' && r.factor >= 1 && Number.isFinite(r.factor))) throw invalidArg('options.restart.factor', 'a finite number >= 1', r.factor);
  return r;
}

function makeSource(launch: Launch, description: string, width: number, height: number, fps: number | undefined, live: boolean, o: SourceOptions): VideoSource {
  return new VideoSource({
    launch,
    description,
    width,
    height,
    fps,
    live,
    drop: o.drop ?? (live ? 'latest' : 'none'),
    restart: checkRestart(o.restart, live),
    onRestart: o.onRestart,
    signal: o.signal,
    frameId: o.frameId,
  });
}

/** The options' size, the other side kept in the input's proportion where only one is given. */
function outputSize(o: SourceOptions, probed: Probed | undefined): { width: number; height: number } {
  if (o.width && o.height) return { width: o.width, height: o.height };
  const p = probed!;
  if (o.width) return { width: o.width, height: Math.max(1, Math.round((o.width * p.height) / p.width)) };
  if (o.height) return { width: Math.max(1, Math.round((o.height * p.width) / p.height)), height: o.height };
  return { width: p.width, height: p.height };
}

/** `30000/1001` -> 29.97; `0/0` (unknown) -> undefined. */
function rate(text: unknown): number | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(String(text));
  return m && Number(m[2]) > 0 && Number(m[1]) > 0 ? Number(m[1]) / Number(m[2]) : undefined;
}

/** A frame rate as GStreamer's fraction. */
function fraction(fps: number): string {
  return Number.isInteger(fps) ? `${fps}/1` : `${Math.round(fps * 1000)}/1000`;
}

async function ffprobe(input: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<Probed> {
  const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,avg_frame_rate,r_frame_rate', '-of', 'json', ...input];
  const what = input.at(-1);
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(FFPROBE.program, args, { timeout: timeoutMs, signal, maxBuffer: 1 << 20 }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    if (e.code === 'ENOENT') throw toolMissing(FFPROBE, err);
    if (signal?.aborted) throw abortError(signal);
    const why = e.killed
      ? `it did not answer within ${timeoutMs} ms`
      : `ffprobe failed: ${String(e.stderr ?? e.message)
          .trim()
          .split('\n')
          .at(-1)}`;
    throw new AnchorSegError('ERR_SOURCE_FAILED', `Expected ffprobe to read the video size of ${what} but ${why}`, { cause: err });
  }
  const s = (JSON.parse(stdout) as { streams?: { width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string }[] }).streams?.[0];
  if (!s?.width || !s.height) throw new AnchorSegError('ERR_SOURCE_FAILED', `Expected a video stream in ${what} but ffprobe found none (give width and height to skip the probe)`);
  return { width: s.width, height: s.height, fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate) };
}

const GST_CAPS = /GstFakeSink.*caps = video\/x-raw.*?width=\(int\)(\d+).*?height=\(int\)(\d+)(?:.*?framerate=\(fraction\)(\d+)\/(\d+))?/;

/** Runs the pipeline into a fakesink until its caps are negotiated (gst-launch-1.0 -v prints them). */
function probeGstreamer(tokens: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<Probed> {
  return new Promise((resolve, reject) => {
    const child = spawn(GST_LAUNCH.program, ['-v', ...tokens, '!', 'videoconvert', '!', 'video/x-raw,format=RGB', '!', 'fakesink'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const settle = (result: Probed | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void stopChild(child, 'SIGTERM').then(() => (result instanceof Error ? reject(result) : resolve(result)));
    };
    const failed = (why: string) => new AnchorSegError('ERR_SOURCE_FAILED', `Expected the GStreamer pipeline "${tokens.join(' ')}" to negotiate raw video but ${why}`);
    const onAbort = () => settle(abortError(signal!));
    const timer = setTimeout(() => settle(failed(`it did not within ${timeoutMs} ms (give width and height to skip the probe)`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout = (stdout + text).slice(-8192);
      const m = GST_CAPS.exec(stdout);
      if (m) settle({ width: Number(m[1]), height: Number(m[2]), fps: m[3] ? rate(`${m[3]}/${m[4]}`) : undefined });
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-2048);
    });
    child.once('error', (err: NodeJS.ErrnoException) => settle(err.code === 'ENOENT' ? toolMissing(GST_LAUNCH, err) : failed(err.message)));
    child.once('close', (code) => settle(failed(`gst-launch-1.0 exited with code ${code}: ${`${stderr}\n${stdout}`.trim().split('\n').at(-1)}`)));
  });
}
