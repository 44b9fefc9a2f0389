/**
 * Golden tests: the native kernels against the TypeScript reference (sdk/kernels/reference.ts).
 * Tolerances (docs/native.md): float32 tensors within 1e-5 absolute (the native resize sums in
 * float32, the reference in float64); float16 tensors within 1e-5 plus one float16 ulp (the
 * float32 values round to neighbouring halves); masks, bboxes,
 * areas, RLE strings and overlays byte-identical.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENCODINGS, type Encoding } from '../sdk/base/frame.js';
import * as kernels from '../sdk/kernels/index.js';
import { halfToFloat, letterboxFor } from '../sdk/kernels/index.js';
import * as reference from '../sdk/kernels/reference.js';
import { imageSpec, makeFrame, makeLogits } from './fixtures/kernels-frames.js';

const encodings = Object.keys(ENCODINGS) as Encoding[];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Worst excess over the float32 tolerance (1e-5), in float16 ulps of the larger value. */
function halfUlpsApart(a: Uint16Array, b: Uint16Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = halfToFloat(a[i]);
    const y = halfToFloat(b[i]);
    const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(x), Math.abs(y), 2 ** -14))) - 10);
    worst = Math.max(worst, (Math.abs(x - y) - 1e-5) / ulp);
  }
  return worst;
}

it('loads the native addon on this machine (CI builds it)', () => {
  expect(kernels.kernelsImplementation).toBe('native');
});

// [frame width, frame height, row padding, input width, input height]: wide, tall, square,
// downscale (large and small factors), upscale, odd sizes, 1-pixel sides, non-square inputs.
const geometries: [number, number, number, number, number][] = [
  [640, 480, 0, 128, 128],
  [641, 479, 5, 128, 128],
  [1280, 160, 3, 128, 128],
  [90, 700, 1, 128, 128],
  [16, 12, 0, 128, 128],
  [37, 23, 9, 64, 96],
  [2, 1, 0, 32, 32],
  [1, 9, 2, 17, 5],
  [1920, 1080, 0, 128, 128],
];

describe('frameToTensor: native == reference', () => {
  for (const encoding of encodings) {
    for (const [w0, h, pad, W, H] of geometries) {
      const w = encoding === 'yuyv' ? w0 + (w0 & 1) : w0;
      it(`${encoding} ${w}x${h} (step +${pad}) -> ${W}x${H}`, () => {
        const frame = makeFrame(encoding, w, h, pad);
        const spec = imageSpec(W, H);
        const ref = reference.frameToTensor(frame, spec);
        const nat = kernels.frameToTensor(frame, spec);
        expect(nat.letterbox).toEqual(ref.letterbox);
        expect(maxAbsDiff(nat.data as Float32Array, ref.data as Float32Array)).toBeLessThanOrEqual(1e-5);
      });
    }
  }

  it.each(['rgb8', 'nv12', 'bgra8'] as const)('%s in bgr channel order and float16', (encoding) => {
    const frame = makeFrame(encoding, 333, 211, 2);
    const spec = imageSpec(128, 128, { channelOrder: 'bgr', dtype: 'float16', mean: [0.1, 0.5, 0.9], std: [0.3, 0.2, 0.1] });
    const ref = reference.frameToTensor(frame, spec);
    const nat = kernels.frameToTensor(frame, spec);
    expect(nat.data).toBeInstanceOf(Uint16Array);
    expect(halfUlpsApart(nat.data as Uint16Array, ref.data as Uint16Array)).toBeLessThanOrEqual(1);
  });

  it.each([
    ['rgb8', 640, 480, 128, 128],
    ['nv12', 90, 700, 128, 128],
    ['bgra8', 37, 23, 64, 96],
    ['mono8', 1, 9, 17, 5],
  ] as const)('%s %ix%i stretched to %ix%i (letterbox none): no padding, the same tensor', (encoding, w, h, W, H) => {
    const frame = makeFrame(encoding, w, h, 1);
    const spec = imageSpec(W, H, { letterbox: 'none' });
    const ref = reference.frameToTensor(frame, spec);
    const nat = kernels.frameToTensor(frame, spec);
    expect(ref.letterbox).toEqual({ scaleX: W / w, scaleY: H / h, contentWidth: W, contentHeight: H, inputWidth: W, inputHeight: H });
    expect(nat.letterbox).toEqual(ref.letterbox);
    expect(maxAbsDiff(nat.data as Float32Array, ref.data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });

  // 640x480 goes through a libuv thread, 160x120 runs inline (below kernels.INLINE_MAX_PIXELS)
  for (const [w, h] of [
    [640, 480],
    [160, 120],
  ]) {
    it(`the async variant returns the same tensor as the sync one (${w}x${h})`, async () => {
      const frame = makeFrame('yuyv', w, h, 4);
      const spec = imageSpec(128, 128);
      const sync = kernels.frameToTensor(frame, spec);
      const async = await kernels.frameToTensorAsync(frame, spec);
      expect(Buffer.from(async.data.buffer, async.data.byteOffset, async.data.byteLength).equals(Buffer.from(sync.data.buffer, sync.data.byteOffset, sync.data.byteLength))).toBe(true);
    });
  }

  it('gives the same result with the row pool split over threads', () => {
    const native = kernels.loadNative();
    const frame = makeFrame('rgb8', 641, 479, 3);
    const spec = imageSpec(128, 128);
    const one = kernels.frameToTensor(frame, spec).data;
    const previous = native.setThreads(3);
    try {
      expect(native.setThreads(3)).toBe(3);
      const three = kernels.frameToTensor(frame, spec).data;
      expect(maxAbsDiff(three as Float32Array, one as Float32Array)).toBe(0);
    } finally {
      native.setThreads(previous);
    }
  });
});

describe('logitsToMask: native == reference, byte for byte', () => {
  const cases: [number, number, number, number, number, number][] = [
    // frame w, h, input W, H, logits Lw, Lh
    [640, 480, 128, 128, 64, 64],
    [480, 640, 128, 128, 64, 64],
    [1280, 160, 128, 128, 64, 64],
    [37, 23, 64, 96, 32, 48],
    [16, 12, 128, 128, 64, 64],
    [1, 1, 128, 128, 64, 64],
    [333, 211, 17, 5, 3, 1],
  ];
  for (const [w, h, W, H, Lw, Lh] of cases) {
    for (const [threshold, mode] of [
      [0, 'bottom-right'],
      [0.37, 'bottom-right'],
      [-1, 'bottom-right'],
      [0, 'none'],
    ] as const) {
      it(`${w}x${h} from ${Lw}x${Lh} logits over ${W}x${H}, threshold ${threshold}, letterbox ${mode}`, async () => {
        const lb = letterboxFor(w, h, W, H, mode);
        const logits = makeLogits(Lw, Lh, w + h);
        const ref = reference.logitsToMask(logits, Lw, Lh, lb, w, h, threshold);
        const nat = kernels.logitsToMask(logits, Lw, Lh, lb, w, h, threshold);
        expect(Buffer.from(nat.mask).equals(Buffer.from(ref.mask))).toBe(true);
        expect(nat.bbox).toEqual(ref.bbox);
        expect(nat.area).toBe(ref.area);
        const viaWorker = await kernels.logitsToMaskAsync(logits, Lw, Lh, lb, w, h, threshold);
        expect(Buffer.from(viaWorker.mask).equals(Buffer.from(ref.mask))).toBe(true);
        expect(viaWorker.bbox).toEqual(ref.bbox);
      });
    }
  }

  it('an all-negative map gives an empty mask, a null bbox and area 0', () => {
    const lb = letterboxFor(64, 48, 128, 128);
    const r = kernels.logitsToMask(new Float32Array(16).fill(-3), 4, 4, lb, 64, 48, 0);
    expect(r).toMatchObject({ bbox: null, area: 0 });
    expect(r.mask.every((v) => v === 0)).toBe(true);
  });
});

describe('overlay: native == reference, byte for byte', () => {
  for (const encoding of encodings) {
    it(encoding, () => {
      const frame = makeFrame(encoding, 50, 31, 3);
      const lb = letterboxFor(50, 31, 64, 64);
      const { mask } = reference.logitsToMask(makeLogits(16, 16, 3), 16, 16, lb, 50, 31, 0);
      for (const [color, alpha] of [
        [[0, 255, 0], 0.5],
        [[255, 0, 255], 0.3],
        [[1, 2, 3], 1],
      ] as const) {
        const ref = reference.overlay(frame, mask, [...color], alpha);
        const nat = kernels.overlay(frame, mask, [...color], alpha);
        expect(Buffer.from(nat).equals(Buffer.from(ref))).toBe(true);
      }
    });
  }
});

describe('COCO RLE: native == reference == pycocotools', () => {
  const native = kernels.loadNative();
  const vectors = (
    JSON.parse(readFileSync(new URL('./fixtures/rle-vectors.json', import.meta.url), 'utf8')) as {
      vectors: { name: string; width: number; height: number; mask: string; counts: string }[];
    }
  ).vectors;

  it.each(vectors.map((v) => [v.name, v] as const))('pycocotools vector %s through the addon directly', (_n, v) => {
    const mask = Uint8Array.from(v.mask, (c) => (c === '1' ? 255 : 0));
    expect(native.rleEncode(mask, v.width, v.height)).toBe(v.counts);
    expect(Buffer.from(native.rleDecode(v.counts, v.height, v.width)).equals(Buffer.from(mask))).toBe(true);
  });

  it.each([
    [640, 480, 0.5],
    [640, 480, 0.001],
    [37, 23, 0.9],
    [1, 4000, 0.3],
    [4000, 1, 0.7],
  ])('random %ix%i masks (density %f) round-trip and encode identically', (w, h, density) => {
    const noise = makeFrame('mono8', w, h, 0, w * h).data;
    const mask = Uint8Array.from(noise, (b) => (b < density * 256 ? 255 : 0));
    const ref = reference.rleEncode(mask, w, h);
    expect(kernels.rleEncode(mask, w, h)).toEqual(ref);
    expect(Buffer.from(kernels.rleDecode(ref)).equals(Buffer.from(mask))).toBe(true);
    expect(Buffer.from(reference.rleDecode(ref)).equals(Buffer.from(mask))).toBe(true);
  });
});
