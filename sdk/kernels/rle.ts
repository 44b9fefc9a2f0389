import { AnchorSegError } from '../base/errors.js';
import type { Rle } from './spec.js';

/**
 * COCO RLE, byte-compatible with pycocotools (`maskApi.c`): runs are counted over the mask in
 * column-major (Fortran) order starting with background, then written as the "compressed"
 * string: each count (minus the count two back, from the fourth on) as 5-bit groups,
 * LEB128-like, offset into ASCII 48..111.
 */
export function encodeCounts(counts: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i];
    if (i > 2) x -= counts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

export function decodeCounts(counts: string, total: number): number[] {
  const out: number[] = [];
  let p = 0;
  let sum = 0;
  while (p < counts.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= counts.length) throw badCounts('a complete run at the end');
      const code = counts.charCodeAt(p);
      const c = code - 48;
      if (code > 127) throw badCounts(`characters between "0" and "o" but found a non-ASCII character at ${p}`);
      if (c < 0 || c > 63) throw badCounts(`characters between "0" and "o" but found ${JSON.stringify(counts[p])} at ${p}`);
      if (k > 5) throw badCounts(`a run of at most 6 characters at ${p}`); // 30 bits cover any count of a 16384x16384 mask
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (out.length > 2) x += out[out.length - 2];
    if (x < 0 || sum + x > total) throw badCounts(`runs summing to ${total} but run ${out.length} is ${x} after ${sum}`);
    sum += x;
    out.push(x);
  }
  if (sum !== total) throw badCounts(`runs summing to ${total} (height x width) but they sum to ${sum}`);
  return out;
}

function badCounts(what: string): AnchorSegError {
  return new AnchorSegError('ERR_INVALID_ARG', `Expected ${what} in rle.counts`);
}

/** Column-major run lengths of a row-major `width x height` mask (non-zero = foreground). */
export function maskRuns(mask: Uint8Array, width: number, height: number): number[] {
  const runs: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let i = x, y = 0; y < height; y++, i += width) {
      const v = mask[i] !== 0 ? 1 : 0;
      if (v !== current) {
        runs.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  runs.push(run);
  return runs;
}

export function rleEncodeTs(mask: Uint8Array, width: number, height: number): Rle {
  return { size: [height, width], counts: encodeCounts(maskRuns(mask, width, height)) };
}

/** Row-major mask of 0 / 255 (the same convention as every other mask in the SDK). */
export function rleDecodeTs(rle: Rle): Uint8Array {
  const [height, width] = rle.size;
  const runs = decodeCounts(rle.counts, height * width);
  const mask = new Uint8Array(height * width);
  let x = 0; // column-major cursor
  let y = 0;
  for (let r = 0; r < runs.length; r++) {
    if (r & 1) {
      for (let i = runs[r]; i > 0; i--) {
        mask[y * width + x] = 255;
        if (++y === height) {
          y = 0;
          x++;
        }
      }
    } else {
      const at = x * height + y + runs[r];
      x = Math.floor(at / height);
      y = at % height;
    }
  }
  return mask;
}
