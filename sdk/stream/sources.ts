import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { AnchorSegError, invalidArg } from '../base/errors.js';
import type { Frame } from '../base/frame.js';
import { loadImage } from '../base/image.js';
import { packageRoot } from '../kernels/native.js';
import type { Shape } from '../data/reasonseg.js';
import type { FrameSource } from './intake.js';

/** One frame of a ReasonSeg-Synth moving sequence. */
export interface SequenceFrame {
  /** Absolute path of the JPEG. */
  file: string;
  stampMs: number;
  /** The goal's polygons in this frame (ReasonSeg shapes). */
  shapes: Shape[];
}

/** A ReasonSeg-Synth moving sequence (`sequence.json` + JPEGs): one goal, a camera-like scene that moves. */
export interface Sequence {
  name: string;
  dir: string;
  goal: string;
  isSentence: boolean;
  width: number;
  height: number;
  fps: number;
  frames: SequenceFrame[];
}

/** The committed moving sequences of ReasonSeg-Synth (the demo's and `npm run bench -- stream`'s input). */
export function defaultSequencesDir(): string {
  return path.join(packageRoot(), 'models', 'data', 'reasonseg-synth', 'sequences');
}

/** Reads and checks a sequence folder's `sequence.json` (frames are decoded later, one at a time). */
export async function readSequence(dir: string): Promise<Sequence> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('dir', 'a path string', dir);
  const file = path.join(dir, 'sequence.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new AnchorSegError('ERR_DATA_INVALID', `Expected a ReasonSeg-Synth sequence (sequence.json) in ${dir} but ${(err as Error).message}`, { cause: err });
  }
  const bad = (key: string, expected: string) => invalidArg(`${key} in ${file}`, expected, json?.[key], 'ERR_DATA_INVALID');
  if (typeof json !== 'object' || json === null) throw invalidArg(file, 'a JSON object', json, 'ERR_DATA_INVALID');
  if (typeof json.goal !== 'string') throw bad('goal', 'a string');
  for (const key of ['width', 'height', 'fps'] as const) {
    const v = json[key];
    if (typeof v !== 'number' || !(v > 0)) throw bad(key, 'a number > 0');
  }
  if (!Array.isArray(json.frames) || json.frames.length === 0) throw bad('frames', 'a non-empty list');
  const frames = json.frames.map((f: unknown, i: number): SequenceFrame => {
    const o = f as Record<string, unknown> | null;
    if (typeof o?.file !== 'string' || path.isAbsolute(o.file) || o.file.split(/[\\/]/).includes('..'))
      throw invalidArg(`frames[${i}].file in ${file}`, 'a file name inside the folder', o?.file, 'ERR_DATA_INVALID');
    if (typeof o.stamp_ms !== 'number' || !(o.stamp_ms >= 0)) throw invalidArg(`frames[${i}].stamp_ms in ${file}`, 'a number >= 0', o.stamp_ms, 'ERR_DATA_INVALID');
    const shapes = o.shapes ?? [];
    if (!Array.isArray(shapes)) throw invalidArg(`frames[${i}].shapes in ${file}`, 'a list of polygons', shapes, 'ERR_DATA_INVALID');
    return { file: path.join(dir, o.file), stampMs: o.stamp_ms, shapes: shapes as Shape[] };
  });
  return {
    name: path.basename(path.resolve(dir)),
    dir,
    goal: json.goal,
    isSentence: Boolean(json.is_sentence),
    width: json.width as number,
    height: json.height as number,
    fps: json.fps as number,
    frames,
  };
}

/** Every sequence under `root` (sub-folders holding a sequence.json), by name. */
export async function readSequences(root: string = defaultSequencesDir()): Promise<Sequence[]> {
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new AnchorSegError('ERR_DATA_INVALID', `Expected a folder of ReasonSeg-Synth sequences at ${root} but it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
      cause: err,
    });
  }
  const dirs: string[] = [];
  for (const name of entries) {
    const files = await readdir(path.join(root, name));
    if (files.includes('sequence.json')) dirs.push(path.join(root, name));
  }
  if (dirs.length === 0) throw new AnchorSegError('ERR_DATA_INVALID', `Expected at least one sequence folder (with sequence.json) in ${root} but found none`);
  return Promise.all(dirs.map(readSequence));
}

/** A stamp `ms` milliseconds after time zero. */
export const stampOf = (ms: number) => ({ sec: Math.floor(ms / 1000), nanosec: Math.round((ms % 1000) * 1e6) });

export interface PlaylistOptions {
  /** Times through the list (default 1; Infinity: until the consumer stops or `frames` are out). */
  loops?: number;
  /** Stop after this many frames in all. */
  frames?: number;
  /** Called before the first frame of each sequence is handed out (e.g. to set the stream's goal). */
  onSequence?: (seq: Sequence, loop: number) => void;
  /** How a frame's pixels are obtained (default: decode its JPEG; a benchmark passes decoded ones). */
  load?: (frame: SequenceFrame) => Frame | Promise<Frame>;
}

/**
 * The sequences' frames one after another, decoded as they are asked for, stamped on one
 * continuous clock (each sequence starts one frame period after the previous one ended).
 */
export async function* playSequences(sequences: readonly Sequence[], options: PlaylistOptions = {}): AsyncGenerator<Frame> {
  const { loops = 1, frames = Infinity, load = (f: SequenceFrame) => loadImage(f.file) } = options;
  let offset = 0;
  let n = 0;
  for (let loop = 0; loop < loops; loop++) {
    for (const seq of sequences) {
      if (n >= frames) return;
      options.onSequence?.(seq, loop);
      for (const f of seq.frames) {
        if (n++ >= frames) return;
        const frame = await load(f);
        yield { ...frame, stamp: stampOf(offset + f.stampMs) };
      }
      offset += seq.frames.at(-1)!.stampMs + 1000 / seq.fps;
    }
  }
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

export interface ImageFolderOptions {
  /** Stamp frame k at k / fps seconds. */
  fps?: number;
  /**
   * Called with the `ERR_FRAME_INVALID` of a file that cannot be decoded, which is then skipped
   * (a live folder keeps going past one bad file). Without it that error ends the source.
   */
  onUnreadable?: (err: AnchorSegError) => void;
}

/** PNG and JPEG files of a folder in name order, decoded as they are asked for; `fps` stamps them k / fps. */
export async function* imageFolder(dir: string, options: ImageFolderOptions = {}): AsyncGenerator<Frame> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => IMAGE_EXT.test(n)).sort();
  } catch (err) {
    throw new AnchorSegError('ERR_DATA_INVALID', `Expected a folder of PNG/JPEG images at ${dir} but it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  if (names.length === 0) throw new AnchorSegError('ERR_DATA_INVALID', `Expected PNG or JPEG files in ${dir} but found none`);
  const { fps, onUnreadable } = options;
  for (let k = 0; k < names.length; k++) {
    let frame: Frame;
    try {
      frame = await loadImage(path.join(dir, names[k]));
    } catch (err) {
      if (!onUnreadable || !(err instanceof AnchorSegError) || err.code !== 'ERR_FRAME_INVALID') throw err;
      onUnreadable(err);
      continue;
    }
    yield fps ? { ...frame, stamp: stampOf((k * 1000) / fps) } : frame;
  }
}

/**
 * Hands out `source`'s frames at `fps`, like a camera: frame k is due k / fps seconds after the
 * first. A consumer that falls behind does not slow it down (with `drop: 'latest'` the stream drops).
 */
export async function* paced(source: FrameSource, fps: number): AsyncGenerator<Frame> {
  if (typeof fps !== 'number' || !(fps > 0) || !Number.isFinite(fps)) throw invalidArg('fps', 'a finite number > 0', fps);
  const t0 = performance.now();
  let k = 0;
  for await (const frame of source) {
    const wait = t0 + (k++ * 1000) / fps - performance.now();
    if (wait > 0) await sleep(wait);
    yield frame;
  }
}
