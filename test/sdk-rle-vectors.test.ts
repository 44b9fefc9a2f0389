/** COCO RLE: rleEncode/rleDecode (and toRle on results) byte for byte against vectors made with pycocotools. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toRle } from '../sdk/model/encoders.js';
import { kernelsImplementation, rleDecode, rleEncode } from '../sdk/kernels/index.js';
import * as reference from '../sdk/kernels/reference.js';

interface Vector {
  name: string;
  height: number;
  width: number;
  mask: string;
  size: [number, number];
  counts: string;
  area: number;
}

const doc = JSON.parse(readFileSync(new URL('./fixtures/rle-vectors.json', import.meta.url), 'utf8')) as { vectors: Vector[] };
const mask255 = (v: Vector) => Uint8Array.from(v.mask, (c) => (c === '1' ? 255 : 0));

describe('COCO RLE vs pycocotools', () => {
  it('has vectors (regenerate with test/fixtures/make_rle_vectors.py)', () => {
    expect(doc.vectors.length).toBeGreaterThan(20);
  });

  it.each(doc.vectors.map((v) => [v.name, v] as const))(`%s: encode gives the same counts string (${kernelsImplementation} and TS reference)`, (_n, v) => {
    const rle = rleEncode(mask255(v), v.width, v.height);
    expect(rle.size).toEqual(v.size);
    expect(rle.counts).toBe(v.counts);
    expect(reference.rleEncode(mask255(v), v.width, v.height)).toEqual(rle);
    expect(toRle({ mask: mask255(v), width: v.width, height: v.height })).toEqual(rle);
  });

  it.each(doc.vectors.map((v) => [v.name, v] as const))('%s: decode gives the same mask', (_n, v) => {
    const mask = rleDecode({ size: v.size, counts: v.counts });
    expect(Buffer.from(mask).equals(Buffer.from(mask255(v)))).toBe(true);
    expect(Buffer.from(reference.rleDecode({ size: v.size, counts: v.counts })).equals(Buffer.from(mask))).toBe(true);
    expect(mask.reduce((a, x) => a + (x ? 1 : 0), 0)).toBe(v.area);
  });
});
