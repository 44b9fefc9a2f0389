import { AnchorSegError, invalidArg } from '../base/errors.js';
import { MAX_SIDE } from '../base/frame.js';

/**
 * How a frame fills the network input: `bottom-right` keeps its aspect ratio (content at the
 * top-left, padding at the bottom and right), `none` stretches it over the whole input.
 */
export const LETTERBOX_MODES = ['bottom-right', 'none'] as const;
export type LetterboxMode = (typeof LETTERBOX_MODES)[number];

/** One pixel input of the vision engine, as the bundle manifest describes it (docs/bundle-format.md). */
export interface ImageSpec {
  input: string;
  width: number;
  height: number;
  channelOrder: 'rgb' | 'bgr';
  layout: 'nchw';
  dtype: 'float32' | 'float16';
  resize: 'bilinear-antialias';
  letterbox: LetterboxMode;
  /** Per RGB channel (before `channelOrder` is applied), on values in [0, 1]. */
  mean: number[];
  std: number[];
}

/** Where a frame's content sits in the network input: top-left, `contentWidth x contentHeight`. */
export interface Letterbox {
  /** Input pixels per frame pixel, across and down (equal unless the frame is stretched). */
  scaleX: number;
  scaleY: number;
  contentWidth: number;
  contentHeight: number;
  inputWidth: number;
  inputHeight: number;
}

/** Mask, bounding box (COCO `[x, y, width, height]`) and area of a thresholded logits map. */
export interface MaskResult {
  /** Row-major, frame resolution, 0 or 255. */
  mask: Uint8Array;
  bbox: [number, number, number, number] | null;
  area: number;
}

/** COCO compressed RLE (pycocotools `counts` string, column-major). */
export interface Rle {
  /** `[height, width]`, as pycocotools writes it. */
  size: [number, number];
  counts: string;
}

export type Rgb = [number, number, number];
export const DEFAULT_OVERLAY_COLOR: Rgb = [0, 255, 0];
export const DEFAULT_OVERLAY_ALPHA = 0.5;

function isSide(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_SIDE;
}

export function checkSide(name: string, v: unknown): number {
  if (!isSide(v)) throw invalidArg(name, `integer between 1 and ${MAX_SIDE}`, v);
  return v;
}

/** `round half away from zero`, as the bundle format defines it (all values here are positive). */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

/** Letterbox geometry (docs/bundle-format.md, step 2): scale to fit with the content at the top-left, or stretch. */
export function letterboxFor(frameWidth: number, frameHeight: number, inputWidth: number, inputHeight: number, mode: LetterboxMode = 'bottom-right'): Letterbox {
  checkSide('frameWidth', frameWidth);
  checkSide('frameHeight', frameHeight);
  checkSide('inputWidth', inputWidth);
  checkSide('inputHeight', inputHeight);
  checkOneOf('mode', mode, LETTERBOX_MODES);
  if (mode === 'none') {
    return { scaleX: inputWidth / frameWidth, scaleY: inputHeight / frameHeight, contentWidth: inputWidth, contentHeight: inputHeight, inputWidth, inputHeight };
  }
  const scale = Math.min(inputWidth / frameWidth, inputHeight / frameHeight);
  return {
    scaleX: scale,
    scaleY: scale,
    contentWidth: Math.max(1, roundHalfAway(frameWidth * scale)),
    contentHeight: Math.max(1, roundHalfAway(frameHeight * scale)),
    inputWidth,
    inputHeight,
  };
}

function checkFiniteTriple(name: string, v: unknown, positive: boolean): void {
  const ok = Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!ok) throw invalidArg(name, `an array of 3 finite numbers${positive ? ' > 0' : ''}`, v);
}

function checkOneOf(name: string, v: unknown, allowed: readonly string[]): void {
  if (typeof v !== 'string' || !allowed.includes(v)) throw invalidArg(name, `one of ${allowed.join(', ')}`, v);
}

/** Validates an image spec (normally from a verified manifest, but callers may build their own). */
export function validateImageSpec(spec: unknown, name = 'spec'): ImageSpec {
  if (typeof spec !== 'object' || spec === null) throw invalidArg(name, 'an image spec object', spec);
  const s = spec as Record<string, unknown>;
  checkSide(`${name}.width`, s.width);
  checkSide(`${name}.height`, s.height);
  checkOneOf(`${name}.channelOrder`, s.channelOrder, ['rgb', 'bgr']);
  checkOneOf(`${name}.layout`, s.layout, ['nchw']);
  checkOneOf(`${name}.dtype`, s.dtype, ['float32', 'float16']);
  checkOneOf(`${name}.resize`, s.resize, ['bilinear-antialias']);
  checkOneOf(`${name}.letterbox`, s.letterbox, LETTERBOX_MODES);
  checkFiniteTriple(`${name}.mean`, s.mean, false);
  checkFiniteTriple(`${name}.std`, s.std, true);
  return spec as ImageSpec;
}

/** Validates a letterbox against the logits it will crop; content must fit inside the input. */
export function validateLetterbox(letterbox: unknown, name = 'letterbox'): Letterbox {
  if (typeof letterbox !== 'object' || letterbox === null) throw invalidArg(name, 'a letterbox object', letterbox);
  const l = letterbox as Record<string, unknown>;
  const inputWidth = checkSide(`${name}.inputWidth`, l.inputWidth);
  const inputHeight = checkSide(`${name}.inputHeight`, l.inputHeight);
  checkSide(`${name}.contentWidth`, l.contentWidth);
  checkSide(`${name}.contentHeight`, l.contentHeight);
  if ((l.contentWidth as number) > inputWidth) throw invalidArg(`${name}.contentWidth`, `integer <= inputWidth ${inputWidth}`, l.contentWidth);
  if ((l.contentHeight as number) > inputHeight) throw invalidArg(`${name}.contentHeight`, `integer <= inputHeight ${inputHeight}`, l.contentHeight);
  return letterbox as Letterbox;
}

export interface LogitsArgs {
  logits: Float32Array;
  logitsWidth: number;
  logitsHeight: number;
  letterbox: Letterbox;
  frameWidth: number;
  frameHeight: number;
  threshold: number;
}

export function validateLogitsArgs(a: LogitsArgs): LogitsArgs {
  checkSide('logitsWidth', a.logitsWidth);
  checkSide('logitsHeight', a.logitsHeight);
  if (!(a.logits instanceof Float32Array)) throw invalidArg('logits', 'a Float32Array', a.logits);
  const need = a.logitsWidth * a.logitsHeight;
  if (a.logits.length !== need) {
    throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${need} values (${a.logitsWidth}x${a.logitsHeight}) for logits but received ${a.logits.length}`);
  }
  validateLetterbox(a.letterbox);
  checkSide('frameWidth', a.frameWidth);
  checkSide('frameHeight', a.frameHeight);
  if (typeof a.threshold !== 'number' || Number.isNaN(a.threshold)) throw invalidArg('threshold', 'a number', a.threshold);
  return a;
}

/** A mask of one byte per pixel at `width x height`; any non-zero byte is foreground. */
export function validateMask(mask: unknown, width: number, height: number, name = 'mask'): Uint8Array {
  checkSide('width', width);
  checkSide('height', height);
  if (!(mask instanceof Uint8Array)) throw invalidArg(name, 'a Uint8Array', mask);
  if (mask.length !== width * height) {
    throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${width * height} bytes (${width}x${height}) for ${name} but received ${mask.length}`);
  }
  return mask;
}

export function validateOverlayStyle(color: unknown, alpha: unknown): void {
  const ok = Array.isArray(color) && color.length === 3 && color.every((c) => Number.isInteger(c) && c >= 0 && c <= 255);
  if (!ok) throw invalidArg('color', 'an array of 3 integers between 0 and 255', color);
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) throw invalidArg('alpha', 'a number between 0 and 1', alpha);
}

/** Validates a COCO RLE object's shape (the counts string is checked while decoding). */
export function validateRle(rle: unknown, name = 'rle'): Rle {
  if (typeof rle !== 'object' || rle === null) throw invalidArg(name, 'an object { size: [h, w], counts }', rle);
  const r = rle as Record<string, unknown>;
  const size = r.size;
  if (!Array.isArray(size) || size.length !== 2) throw invalidArg(`${name}.size`, 'an array [height, width]', size);
  checkSide(`${name}.size[0]`, size[0]);
  checkSide(`${name}.size[1]`, size[1]);
  if (typeof r.counts !== 'string') throw invalidArg(`${name}.counts`, 'a compressed RLE string', r.counts);
  return rle as Rle;
}
