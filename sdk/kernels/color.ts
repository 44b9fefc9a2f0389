import type { Frame } from '../base/frame.js';

/**
 * YUV -> RGB with the BT.601 matrix, limited ("video") range: Y in [16, 235], Cb/Cr in [16, 240],
 * what UVC and CSI cameras deliver by default. Chroma is replicated (nearest) to the pixels that
 * share it. Terms are tabulated in float64 and summed in a fixed order; the native kernels build
 * the same tables, so converted values match bit for bit.
 */
const KR = 0.299;
const KB = 0.114;
const KG = 1 - KR - KB;
const Y_SCALE = 255 / 219;
const C_SCALE = 255 / 224;

function table(f: (v: number) => number): Float64Array {
  const t = new Float64Array(256);
  for (let v = 0; v < 256; v++) t[v] = f(v);
  return t;
}

const Y_TERM = table((y) => Y_SCALE * (y - 16));
const R_V = table((v) => C_SCALE * (2 * (1 - KR)) * (v - 128));
const G_U = table((u) => -C_SCALE * ((2 * (1 - KB) * KB) / KG) * (u - 128));
const G_V = table((v) => -C_SCALE * ((2 * (1 - KR) * KR) / KG) * (v - 128));
const B_U = table((u) => C_SCALE * (2 * (1 - KB)) * (u - 128));

function clamp255(x: number): number {
  return x < 0 ? 0 : x > 255 ? 255 : x;
}

/** Writes one pixel's RGB (float, in [0, 255]) at `out[o..o+2]`. */
function yuvPixel(y: number, u: number, v: number, out: Float32Array | Float64Array, o: number): void {
  const yt = Y_TERM[y];
  out[o] = clamp255(yt + R_V[v]);
  out[o + 1] = clamp255(yt + G_U[u] + G_V[v]);
  out[o + 2] = clamp255(yt + B_U[u]);
}

/**
 * Converts row `y` of a (validated) frame into interleaved RGB values in [0, 255].
 * This is the single place that knows every encoding's byte layout on the TS side.
 */
export function rgbRow(frame: Frame, y: number, out: Float32Array | Float64Array): void {
  const { data, width, step, encoding } = frame;
  let p = y * step;
  switch (encoding) {
    case 'rgb8':
      for (let i = 0; i < width * 3; i++) out[i] = data[p + i];
      return;
    case 'bgr8':
      for (let x = 0, o = 0; x < width; x++, o += 3, p += 3) {
        out[o] = data[p + 2];
        out[o + 1] = data[p + 1];
        out[o + 2] = data[p];
      }
      return;
    case 'rgba8':
      for (let x = 0, o = 0; x < width; x++, o += 3, p += 4) {
        out[o] = data[p];
        out[o + 1] = data[p + 1];
        out[o + 2] = data[p + 2];
      }
      return;
    case 'bgra8':
      for (let x = 0, o = 0; x < width; x++, o += 3, p += 4) {
        out[o] = data[p + 2];
        out[o + 1] = data[p + 1];
        out[o + 2] = data[p];
      }
      return;
    case 'mono8':
      for (let x = 0, o = 0; x < width; x++, o += 3) {
        const v = data[p + x];
        out[o] = v;
        out[o + 1] = v;
        out[o + 2] = v;
      }
      return;
    case 'yuyv':
      // Y0 U Y1 V: two pixels per 4 bytes (width is even, validated).
      for (let x = 0, o = 0; x < width; x += 2, o += 6, p += 4) {
        const u = data[p + 1];
        const v = data[p + 3];
        yuvPixel(data[p], u, v, out, o);
        yuvPixel(data[p + 2], u, v, out, o + 3);
      }
      return;
    case 'nv12': {
      // Chroma plane follows `height` luma rows; one interleaved UV pair per 2x2 luma block.
      const uvRow = frame.height * step + (y >> 1) * step;
      for (let x = 0, o = 0; x < width; x++, o += 3) {
        const c = uvRow + (x & ~1);
        yuvPixel(data[p + x], data[c], data[c + 1], out, o);
      }
      return;
    }
  }
}
