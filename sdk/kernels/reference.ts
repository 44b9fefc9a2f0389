/**
 * The TypeScript reference kernels: the definition the native kernels are tested against
 * (docs/bundle-format.md), and the fallback when the addon is not built. Every export validates
 * its arguments and throws coded errors.
 */
import { validateFrame, type Frame } from '../base/frame.js';
import { rgbRow } from './color.js';
import { axisFilter } from './filter.js';
import { halfBits } from './fp16.js';
import { rleDecodeTs, rleEncodeTs } from './rle.js';
import {
  DEFAULT_OVERLAY_ALPHA,
  DEFAULT_OVERLAY_COLOR,
  letterboxFor,
  validateImageSpec,
  validateLogitsArgs,
  validateMask,
  validateOverlayStyle,
  validateRle,
  type ImageSpec,
  type Letterbox,
  type MaskResult,
  type Rgb,
  type Rle,
} from './spec.js';

export interface TensorResult {
  /** NCHW; float16 tensors are their IEEE binary16 bits. */
  data: Float32Array | Uint16Array;
  letterbox: Letterbox;
}

/** Frame -> network input: convert to RGB, letterbox, antialiased resize, normalise, NCHW. */
export function frameToTensor(frame: Frame, spec: ImageSpec): TensorResult {
  validateFrame(frame);
  validateImageSpec(spec);
  const { width: w, height: h } = frame;
  const W = spec.width;
  const H = spec.height;
  const letterbox = letterboxFor(w, h, W, H, spec.letterbox);
  const nw = letterbox.contentWidth;
  const nh = letterbox.contentHeight;
  const fx = axisFilter(w, nw);
  const fy = axisFilter(h, nh);

  // Horizontal pass over every source row: h x nw interleaved RGB (float32, as specified).
  const rowLen = nw * 3;
  const tmp = new Float32Array(h * rowLen);
  const src = new Float32Array(w * 3);
  for (let y = 0; y < h; y++) {
    rgbRow(frame, y, src);
    const o = y * rowLen;
    for (let x = 0; x < nw; x++) {
      const k0 = x * fx.ksize;
      const n = fx.count[x];
      let p = fx.start[x] * 3;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < n; k++, p += 3) {
        const c = fx.weights[k0 + k];
        r += c * src[p];
        g += c * src[p + 1];
        b += c * src[p + 2];
      }
      tmp[o + x * 3] = r;
      tmp[o + x * 3 + 1] = g;
      tmp[o + x * 3 + 2] = b;
    }
  }

  // Vertical pass, then normalise straight into NCHW; padding stays 0 (the mean colour).
  const plane = W * H;
  const out = new Float32Array(3 * plane);
  const acc = new Float64Array(rowLen);
  const bgr = spec.channelOrder === 'bgr';
  for (let y = 0; y < nh; y++) {
    acc.fill(0);
    const k0 = y * fy.ksize;
    for (let k = 0, n = fy.count[y]; k < n; k++) {
      const c = fy.weights[k0 + k];
      const o = (fy.start[y] + k) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += c * tmp[o + i];
    }
    for (let c = 0; c < 3; c++) {
      const dst = (bgr ? 2 - c : c) * plane + y * W;
      const mean = spec.mean[c];
      const std = spec.std[c];
      for (let x = 0; x < nw; x++) out[dst + x] = (Math.fround(acc[x * 3 + c]) / 255 - mean) / std;
    }
  }
  if (spec.dtype === 'float32') return { data: out, letterbox };
  const half = new Uint16Array(out.length);
  for (let i = 0; i < out.length; i++) half[i] = halfBits(out[i]);
  return { data: half, letterbox };
}

/** One axis of the postprocess mapping: frame coordinate -> two logits taps and a weight. */
interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  f: Float64Array;
}

/** `u = (x + 0.5) * content / frame * logits / input - 0.5`, clamped (docs/bundle-format.md). */
export function logitsTaps(frameSize: number, content: number, input: number, logits: number): Taps {
  const i0 = new Int32Array(frameSize);
  const i1 = new Int32Array(frameSize);
  const f = new Float64Array(frameSize);
  for (let x = 0; x < frameSize; x++) {
    let u = ((((x + 0.5) * content) / frameSize) * logits) / input - 0.5;
    u = u < 0 ? 0 : u > logits - 1 ? logits - 1 : u;
    const a = Math.floor(u);
    i0[x] = a;
    i1[x] = a + 1 < logits ? a + 1 : logits - 1;
    f[x] = u - a;
  }
  return { i0, i1, f };
}

/** Logits -> thresholded mask at frame resolution, with bbox and area, in one pass. */
export function logitsToMask(logits: Float32Array, logitsWidth: number, logitsHeight: number, letterbox: Letterbox, frameWidth: number, frameHeight: number, threshold: number): MaskResult {
  validateLogitsArgs({ logits, logitsWidth, logitsHeight, letterbox, frameWidth, frameHeight, threshold });
  const Lw = logitsWidth;
  const w = frameWidth;
  const tx = logitsTaps(w, letterbox.contentWidth, letterbox.inputWidth, Lw);
  const ty = logitsTaps(frameHeight, letterbox.contentHeight, letterbox.inputHeight, logitsHeight);
  // Every logits row interpolated at every frame column once; rows then blend two of these.
  // float64 throughout, `a * (1 - f) + b * f` as models/anchorseg/preprocess.py writes it.
  const rows = new Float64Array(logitsHeight * w);
  for (let r = 0; r < logitsHeight; r++) {
    const o = r * Lw;
    for (let x = 0; x < w; x++) {
      const f = tx.f[x];
      rows[r * w + x] = logits[o + tx.i0[x]] * (1 - f) + logits[o + tx.i1[x]] * f;
    }
  }
  const mask = new Uint8Array(w * frameHeight);
  let area = 0;
  let x0 = w;
  let y0 = frameHeight;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < frameHeight; y++) {
    const a = ty.i0[y] * w;
    const b = ty.i1[y] * w;
    const fy = ty.f[y];
    const gy = 1 - fy;
    const o = y * w;
    let rowArea = 0;
    for (let x = 0; x < w; x++) {
      if (rows[a + x] * gy + rows[b + x] * fy > threshold) {
        mask[o + x] = 255;
        rowArea++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
    if (rowArea > 0) {
      area += rowArea;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return { mask, bbox: area > 0 ? [x0, y0, x1 - x0 + 1, y1 - y0 + 1] : null, area };
}

export function rleEncode(mask: Uint8Array, width: number, height: number): Rle {
  validateMask(mask, width, height);
  return rleEncodeTs(mask, width, height);
}

export function rleDecode(rle: Rle): Uint8Array {
  return rleDecodeTs(validateRle(rle));
}

/** Frame + mask -> rgb8 picture at frame resolution, mask pixels blended with `color`. */
export function overlay(frame: Frame, mask: Uint8Array, color: Rgb = DEFAULT_OVERLAY_COLOR, alpha = DEFAULT_OVERLAY_ALPHA): Uint8Array {
  validateFrame(frame);
  const { width: w, height: h } = frame;
  validateMask(mask, w, h);
  validateOverlayStyle(color, alpha);
  const out = new Uint8Array(w * h * 3);
  const row = new Float64Array(w * 3);
  // Blended value of each source byte per channel: same float64 expression as native.
  const blend = [0, 1, 2].map((c) => {
    const t = new Uint8Array(256);
    for (let v = 0; v < 256; v++) t[v] = Math.floor(v * (1 - alpha) + color[c] * alpha + 0.5);
    return t;
  });
  for (let y = 0; y < h; y++) {
    rgbRow(frame, y, row);
    const m = y * w;
    const o = m * 3;
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.floor(row[x * 3 + c] + 0.5); // yuv sources are fractional
        out[o + x * 3 + c] = mask[m + x] !== 0 ? blend[c][v] : v;
      }
    }
  }
  return out;
}
