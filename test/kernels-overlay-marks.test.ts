/**
 * The overlay a person reads (overlayResult, encodeOverlayPng): a light fill, the outline on the
 * mask's boundary (white inside, dark outside), the bbox through the mask's extreme pixels and
 * the anchor cross; on a small drawn mask against a golden picture, and on a real result.
 */
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { ANCHOR_ARM, BBOX_COLOR, FILL_ALPHA, FILL_COLOR, OUTLINE_CORE, OUTLINE_EDGE, overlay, overlayResult } from '../sdk/kernels/index.js';
import { encodeOverlayPng } from '../sdk/model/encoders.js';
import type { SegmentResult } from '../sdk/model/result.js';
import { Segmenter } from '../sdk/segmenter.js';
import { defaultSequencesDir } from '../sdk/stream/sources.js';
import { expectCode } from './fixtures/sdk-helpers.js';

const grey = (width: number, height: number): Frame => ({ width, height, encoding: 'rgb8', step: width * 3, data: new Uint8Array(width * height * 3).fill(128) });
const same = (rgb: Uint8Array, i: number, c: readonly number[]) => rgb[3 * i] === c[0] && rgb[3 * i + 1] === c[1] && rgb[3 * i + 2] === c[2];

/** One letter per pixel: . untouched, f fill, W white, K dark, B bbox. */
function picture(rgb: Uint8Array, width: number, height: number): string[] {
  const fill = overlay(grey(1, 1), new Uint8Array([255]), FILL_COLOR, FILL_ALPHA);
  const kinds: [string, readonly number[]][] = [
    ['.', [128, 128, 128]],
    ['f', [...fill]],
    ['W', OUTLINE_CORE],
    ['K', OUTLINE_EDGE],
    ['B', BBOX_COLOR],
  ];
  return Array.from({ length: height }, (_, y) => Array.from({ length: width }, (_, x) => kinds.find(([, c]) => same(rgb, y * width + x, c))?.[0] ?? '?').join(''));
}

/** Mask pixels with a 4-neighbour outside the mask (or the frame), and outside pixels with one inside. */
function rings(mask: Uint8Array, width: number, height: number): { inner: Set<number>; outer: Set<number> } {
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] !== 0;
  const inner = new Set<number>();
  const outer = new Set<number>();
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const n = [inside(x - 1, y), inside(x + 1, y), inside(x, y - 1), inside(x, y + 1)];
      if (inside(x, y) && n.includes(false)) inner.add(y * width + x);
      if (!inside(x, y) && n.includes(true)) outer.add(y * width + x);
    }
  return { inner, outer };
}

describe('overlayResult on a drawn mask', () => {
  // An L: a 3 px wide upright (x 2..4, y 2..7) and a foot (x 2..9, y 6..7).
  const W = 13;
  const H = 11;
  const mask = new Uint8Array(W * H);
  for (let y = 2; y <= 7; y++) for (let x = 2; x <= (y >= 6 ? 9 : 4); x++) mask[y * W + x] = 255;
  const bbox: [number, number, number, number] = [2, 2, 8, 6];

  it('draws fill, bbox and outline as in the golden picture', () => {
    const rgb = overlayResult(grey(W, H), { mask, bbox }, { anchor: false });
    expect(picture(rgb, W, H)).toEqual([
      '.............',
      '..KKK........',
      '.KWWWKBBBB...',
      '.KWfWK...B...',
      '.KWfWK...B...',
      '.KWfWKKKKK...',
      '.KWffWWWWWK..',
      '.KWWWWWWWWK..',
      '..KKKKKKKK...',
      '.............',
      '.............',
    ]);
  });

  it('draws the anchor as a white cross edged in dark, on top, clipped at the frame', () => {
    const rgb = overlayResult(grey(W, H), { mask, anchor: { x: 11.4, y: 1.6 } }, { outline: false });
    expect(picture(rgb, W, H).slice(0, 8)).toEqual(['..........KWK', '......KKKKKWK', '..fff.KWWWWWW', '..fff.KKKKKWK', '..fff.....KWK', '..fff.....KWK', '..ffffffffKWK', '..ffffffffKKK']);
    expect(ANCHOR_ARM).toBe(4);
  });

  it('leaves a mark out on request, and refuses a bbox outside the frame or a style of the wrong type', async () => {
    const plain = overlayResult(grey(W, H), { mask, bbox, anchor: { x: 3, y: 3 } }, { outline: false, bbox: false, anchor: false });
    expect(Buffer.from(plain).equals(Buffer.from(overlay(grey(W, H), mask, FILL_COLOR, FILL_ALPHA)))).toBe(true);
    await expectCode(() => overlayResult(grey(W, H), { mask, bbox: [8, 2, 8, 6] }), 'ERR_INVALID_ARG');
    await expectCode(() => overlayResult(grey(W, H), { mask }, { outline: 'yes' as never }), 'ERR_INVALID_ARG');
  });
});

describe('overlays of a real result', () => {
  let frame: Frame;
  let r: SegmentResult;
  beforeAll(async () => {
    const dir = path.join(defaultSequencesDir(), 'seq00');
    frame = await loadImage(path.join(dir, '0000.jpg'));
    await using seg = await Segmenter.open(undefined, { threads: 1 });
    r = await seg.segment(frame, 'the yellow pen');
  });

  it('outline pixels lie exactly on the mask boundary: white on its own edge pixels, dark just outside', () => {
    expect(r.area).toBeGreaterThan(50);
    const { width: w, height: h } = frame;
    const rgb = overlayResult(grey(w, h), r, { bbox: false, anchor: false });
    const { inner, outer } = rings(r.mask, w, h);
    const white = new Set<number>();
    const dark = new Set<number>();
    for (let i = 0; i < w * h; i++) {
      if (same(rgb, i, OUTLINE_CORE)) white.add(i);
      if (same(rgb, i, OUTLINE_EDGE)) dark.add(i);
    }
    expect(white).toEqual(inner);
    expect(dark).toEqual(outer);
    for (const i of white) expect(r.mask[i]).toBe(255);
    for (const i of dark) expect(r.mask[i]).toBe(0);
  });

  it('the bbox drawn is the rectangle through the mask extremes', () => {
    const { width: w, height: h } = frame;
    let [x0, y0, x1, y1] = [w, h, -1, -1];
    for (let i = 0; i < w * h; i++)
      if (r.mask[i]) {
        const x = i % w;
        const y = Math.floor(i / w);
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
    expect(r.bbox).toEqual([x0, y0, x1 - x0 + 1, y1 - y0 + 1]);
    const rgb = overlayResult(grey(w, h), r, { outline: false, anchor: false });
    const wrong: string[] = [];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const onEdge = x >= x0 && x <= x1 && y >= y0 && y <= y1 && (x === x0 || x === x1 || y === y0 || y === y1);
        if (same(rgb, y * w + x, BBOX_COLOR) !== onEdge) wrong.push(`(${x}, ${y})`);
      }
    expect(wrong).toEqual([]);
  });

  it('encodeOverlayPng is that picture; away from the marks the frame shows unchanged, inside the mask lightly filled', async () => {
    const { width: w, height: h } = frame;
    const png = await sharp(await encodeOverlayPng(frame, r))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(png.info).toMatchObject({ width: w, height: h, channels: 3 });
    const drawn = overlayResult(frame, r);
    expect(png.data.equals(Buffer.from(drawn))).toBe(true);
    const { inner, outer } = rings(r.mask, w, h);
    const [bx, by, bw, bh] = r.bbox!;
    const ax = Math.round(r.anchor.x);
    const ay = Math.round(r.anchor.y);
    let filled = 0;
    const wrong: string[] = [];
    for (let i = 0; i < w * h; i++) {
      const x = i % w;
      const y = Math.floor(i / w);
      const onBox = x >= bx && x < bx + bw && y >= by && y < by + bh && (x === bx || x === bx + bw - 1 || y === by || y === by + bh - 1);
      const nearAnchor = Math.abs(x - ax) <= ANCHOR_ARM + 1 && Math.abs(y - ay) <= ANCHOR_ARM + 1;
      if (inner.has(i) || outer.has(i) || onBox || nearAnchor) continue;
      const f = [frame.data[3 * i], frame.data[3 * i + 1], frame.data[3 * i + 2]];
      const want = r.mask[i] ? f.map((v, c) => Math.floor(v * (1 - FILL_ALPHA) + FILL_COLOR[c] * FILL_ALPHA + 0.5)) : f;
      if (r.mask[i]) filled++;
      if (!same(drawn, i, want)) wrong.push(`(${x}, ${y})`);
    }
    expect(wrong).toEqual([]);
    expect(filled).toBeGreaterThan(0);
  });
});
