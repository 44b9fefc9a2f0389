/**
 * Antialiased triangle ("bilinear") filter coefficients for one axis, as Pillow's BILINEAR resize
 * computes them (docs/bundle-format.md, Preprocessing step 3). Weights are computed in float64,
 * normalised, then stored as float32: the native kernels use the same expressions, so both sides
 * start from bit-identical weights.
 */
export interface AxisFilter {
  inSize: number;
  outSize: number;
  /** Taps per output sample, padded: `weights` holds `outSize * ksize` values (zeros past `count`). */
  ksize: number;
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
}

export function axisFilter(inSize: number, outSize: number): AxisFilter {
  const scale = inSize / outSize;
  const support = Math.max(scale, 1);
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support + 0.5));
    const hi = Math.min(inSize, Math.floor(center + support + 0.5));
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const x = Math.max(0, 1 - Math.abs((j + 0.5 - center) / support));
      w[j - lo] = x;
      total += x;
    }
    start[i] = lo;
    count[i] = hi - lo;
    for (let j = 0; j < hi - lo; j++) weights[i * ksize + j] = total > 0 ? w[j] / total : 0;
  }
  return { inSize, outSize, ksize, start, count, weights };
}
