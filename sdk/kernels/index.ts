/**
 * Image and mask kernels (docs/native.md). Each function runs the native addon when it is
 * loaded and the TypeScript reference (./reference.ts) otherwise; both follow
 * docs/bundle-format.md and are tested against each other.
 */
import { invalidArg } from '../base/errors.js';
import { validateFrame, type Frame } from '../base/frame.js';
import { drawMarks, FILL_ALPHA, FILL_COLOR, type Marks, type OverlayStyle } from './annotate.js';
import { nativeKernels, type NativeImageParams, type NativeKernels, type NativeLogitsParams, type NativeMask } from './native.js';
import * as reference from './reference.js';
import {
  DEFAULT_OVERLAY_ALPHA,
  DEFAULT_OVERLAY_COLOR,
  LETTERBOX_MODES,
  letterboxFor,
  validateImageSpec,
  validateLogitsArgs,
  validateMask,
  validateOverlayStyle,
  validateRle,
  type ImageSpec,
  type Letterbox,
  type LetterboxMode,
  type MaskResult,
  type Rgb,
  type Rle,
} from './spec.js';

export { letterboxFor, DEFAULT_OVERLAY_ALPHA, DEFAULT_OVERLAY_COLOR, LETTERBOX_MODES };
export type { ImageSpec, Letterbox, LetterboxMode, MaskResult, Rgb, Rle };
export type { TensorResult } from './reference.js';
export { halfBits, halfToFloat } from './fp16.js';
export { ANCHOR_ARM, BBOX_COLOR, drawMarks, FILL_ALPHA, FILL_COLOR, OUTLINE_CORE, OUTLINE_EDGE, type MarkStyle, type Marks, type OverlayStyle } from './annotate.js';
export { loadNative, nativeKernels } from './native.js';

const native: NativeKernels | null = nativeKernels();

/** Which implementation the exports below run: 'native' or 'ts'. */
export const kernelsImplementation: 'native' | 'ts' = native ? 'native' : 'ts';

/**
 * Threads the native image kernel splits a frame's rows over (default 1: on the 2-core machine
 * the benchmark runs on, a second thread did not pay; large frames on many-core boards may gain).
 * Returns the previous count; without the addon it does nothing and returns 1.
 */
export function setKernelThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw invalidArg('threads', 'integer between 1 and 64', threads);
  return native ? native.setThreads(threads) : 1;
}

function imageParams(frame: Frame, spec: ImageSpec): { params: NativeImageParams; letterbox: Letterbox } {
  validateFrame(frame);
  validateImageSpec(spec);
  const letterbox = letterboxFor(frame.width, frame.height, spec.width, spec.height, spec.letterbox);
  const { inputWidth, inputHeight, contentWidth, contentHeight } = letterbox;
  const { channelOrder, dtype, mean, std } = spec;
  return { params: { inputWidth, inputHeight, contentWidth, contentHeight, channelOrder, dtype, mean, std }, letterbox };
}

function tensorView(buf: Buffer, dtype: ImageSpec['dtype']): Float32Array | Uint16Array {
  return dtype === 'float32' ? new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4) : new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
}

/** Frame -> NCHW network input (float32, or float16 bits) and where the content sits. */
export function frameToTensor(frame: Frame, spec: ImageSpec): reference.TensorResult {
  if (!native) return reference.frameToTensor(frame, spec);
  const { params, letterbox } = imageParams(frame, spec);
  return { data: tensorView(native.frameToTensor(frame, params), spec.dtype), letterbox };
}

/**
 * Below this many pixels (frame plus output) the native kernels run on the calling thread: there
 * they take about 0.2 ms or less, no more than handing the work to a libuv thread and back costs
 * (`npm run bench -- kernels` prints both; docs/native.md), so the event loop waits no longer.
 */
export const INLINE_MAX_PIXELS = 2 * 320 * 240;
const runsInline = (framePixels: number, outputPixels: number) => framePixels + outputPixels <= INLINE_MAX_PIXELS;

/**
 * Same as frameToTensor, computed on a native worker thread. The bytes are copied when the call
 * is made (a frame on a SharedArrayBuffer is read in place instead), so the caller may reuse,
 * transfer or detach the buffer as soon as this returns. Small frames run inline
 * (INLINE_MAX_PIXELS). Without the addon it runs the TS kernel on this thread.
 */
export async function frameToTensorAsync(frame: Frame, spec: ImageSpec): Promise<reference.TensorResult> {
  if (!native) return reference.frameToTensor(frame, spec);
  const { params, letterbox } = imageParams(frame, spec);
  const data = runsInline(frame.width * frame.height, spec.width * spec.height) ? native.frameToTensor(frame, params) : await native.frameToTensorAsync(frame, params);
  return { data: tensorView(data, spec.dtype), letterbox };
}

function logitsParams(...a: Parameters<typeof logitsToMask>): NativeLogitsParams {
  const [logits, logitsWidth, logitsHeight, letterbox, frameWidth, frameHeight, threshold] = a;
  validateLogitsArgs({ logits, logitsWidth, logitsHeight, letterbox, frameWidth, frameHeight, threshold });
  const { contentWidth, contentHeight, inputWidth, inputHeight } = letterbox;
  return { logitsWidth, logitsHeight, contentWidth, contentHeight, inputWidth, inputHeight, frameWidth, frameHeight, threshold };
}

function maskResult(m: NativeMask): MaskResult {
  return { mask: new Uint8Array(m.mask.buffer, m.mask.byteOffset, m.mask.byteLength), bbox: m.bbox, area: m.area };
}

/** Decoder logits -> frame-resolution 0/255 mask, COCO bbox and area (docs/bundle-format.md, Postprocessing). */
export function logitsToMask(logits: Float32Array, logitsWidth: number, logitsHeight: number, letterbox: Letterbox, frameWidth: number, frameHeight: number, threshold: number): MaskResult {
  const args = [logits, logitsWidth, logitsHeight, letterbox, frameWidth, frameHeight, threshold] as const;
  if (!native) return reference.logitsToMask(...args);
  return maskResult(native.logitsToMask(logits, logitsParams(...args)));
}

/** Same as logitsToMask, on a native worker thread when the addon is loaded (small masks inline, see INLINE_MAX_PIXELS). */
export async function logitsToMaskAsync(...args: Parameters<typeof logitsToMask>): Promise<MaskResult> {
  if (!native) return reference.logitsToMask(...args);
  const params = logitsParams(...args);
  return maskResult(
    runsInline(params.frameWidth * params.frameHeight, params.logitsWidth * params.logitsHeight) ? native.logitsToMask(args[0], params) : await native.logitsToMaskAsync(args[0], params),
  );
}

/** COCO compressed RLE of a row-major mask (non-zero = foreground), byte-identical to pycocotools. */
export function rleEncode(mask: Uint8Array, width: number, height: number): Rle {
  if (!native) return reference.rleEncode(mask, width, height);
  validateMask(mask, width, height);
  return { size: [height, width], counts: native.rleEncode(mask, width, height) };
}

/** COCO compressed RLE -> row-major mask of 0 / 255. */
export function rleDecode(rle: Rle): Uint8Array {
  if (!native) return reference.rleDecode(rle);
  const [height, width] = validateRle(rle).size;
  const buf = native.rleDecode(rle.counts, height, width);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** rgb8 picture of the frame with mask pixels blended towards `color` by `alpha`. */
export function overlay(frame: Frame, mask: Uint8Array, color: Rgb = DEFAULT_OVERLAY_COLOR, alpha = DEFAULT_OVERLAY_ALPHA): Uint8Array {
  if (!native) return reference.overlay(frame, mask, color, alpha);
  validateFrame(frame);
  validateMask(mask, frame.width, frame.height);
  validateOverlayStyle(color, alpha);
  const buf = native.overlay(frame, mask, color, alpha);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The overlay a person reads: mask pixels lightly filled (`color`, `alpha`; the overlay kernel),
 * then the outline, the bbox and the anchor marker (./annotate.ts). rgb8 at frame resolution.
 */
export function overlayResult(frame: Frame, result: Marks, style: OverlayStyle = {}): Uint8Array {
  const rgb = overlay(frame, result.mask, style.color ?? FILL_COLOR, style.alpha ?? FILL_ALPHA);
  return drawMarks(rgb, frame.width, frame.height, result, style);
}
