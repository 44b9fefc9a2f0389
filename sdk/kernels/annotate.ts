/**
 * What a person looks at in an overlay besides the fill: the mask's outline, its bbox and the
 * anchor marker, drawn onto an rgb8 picture. TypeScript only: it touches the outline, two
 * rectangle edges and a few marker pixels, one comparison per pixel to find the outline, so a
 * second (native) copy would buy nothing worth keeping two in step.
 */
import { invalidArg } from '../base/errors.js';
import type { Rgb } from './spec.js';

/** Which marks to draw (all by default). */
export interface MarkStyle {
  /** The outline: a white ring on the mask's own boundary pixels, a dark ring just outside them. */
  outline?: boolean;
  /** The COCO bbox as a 1 px rectangle through the mask's extreme pixels. */
  bbox?: boolean;
  /** The anchor (the token map's peak) as a white cross edged in dark. */
  anchor?: boolean;
}

/** Fill and marks: `color`/`alpha` blend the mask pixels (the native overlay kernel), then the marks. */
export interface OverlayStyle extends MarkStyle {
  color?: Rgb;
  alpha?: number;
}

/** The fill: light and translucent, so the object stays visible through it. */
export const FILL_COLOR: Rgb = [0, 200, 255];
export const FILL_ALPHA = 0.3;
/** The outline's rings: a white one and a dark one, so one of them reads on any object or background. */
export const OUTLINE_CORE: Rgb = [255, 255, 255];
export const OUTLINE_EDGE: Rgb = [0, 0, 0];
export const BBOX_COLOR: Rgb = [255, 200, 0];
/** Arm length of the anchor cross, in pixels from its centre. */
export const ANCHOR_ARM = 4;

/** What the marks are drawn from: a result's mask, bbox and anchor (either may be absent). */
export interface Marks {
  mask: Uint8Array;
  bbox?: readonly [number, number, number, number] | null;
  anchor?: { x: number; y: number } | null;
}

function paint(rgb: Uint8Array, i: number, c: Rgb): void {
  rgb[3 * i] = c[0];
  rgb[3 * i + 1] = c[1];
  rgb[3 * i + 2] = c[2];
}

/** Draws the marks onto `rgb` (rgb8, `width x height`, the mask's size) in place and returns it. Order: bbox, outline, anchor on top. */
export function drawMarks(rgb: Uint8Array, width: number, height: number, marks: Marks, style: MarkStyle = {}): Uint8Array {
  const { mask, bbox, anchor } = marks;
  for (const key of ['outline', 'bbox', 'anchor'] as const) {
    if (style[key] !== undefined && typeof style[key] !== 'boolean') throw invalidArg(`style.${key}`, 'a boolean', style[key]);
  }
  if (style.bbox !== false && bbox) {
    const [x, y, w, h] = bbox;
    if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > width || y + h > height)
      throw invalidArg('result.bbox', `[x, y, width, height] inside the ${width}x${height} frame`, `[${bbox.join(', ')}]`);
    for (let i = x; i < x + w; i++) {
      paint(rgb, y * width + i, BBOX_COLOR);
      paint(rgb, (y + h - 1) * width + i, BBOX_COLOR);
    }
    for (let j = y; j < y + h; j++) {
      paint(rgb, j * width + x, BBOX_COLOR);
      paint(rgb, j * width + x + w - 1, BBOX_COLOR);
    }
  }
  if (style.outline !== false) {
    // Outside the frame counts as outside the mask, so a mask at the border is closed too.
    const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] !== 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const all = inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1);
        const any = inside(x - 1, y) || inside(x + 1, y) || inside(x, y - 1) || inside(x, y + 1);
        if (mask[y * width + x] !== 0) {
          if (!all) paint(rgb, y * width + x, OUTLINE_CORE);
        } else if (any) paint(rgb, y * width + x, OUTLINE_EDGE);
      }
    }
  }
  if (style.anchor !== false && anchor) {
    if (!Number.isFinite(anchor.x) || !Number.isFinite(anchor.y)) throw invalidArg('result.anchor', 'finite { x, y }', `{ x: ${anchor.x}, y: ${anchor.y} }`);
    const cx = Math.round(anchor.x);
    const cy = Math.round(anchor.y);
    const at = (dx: number, dy: number, c: Rgb) => {
      const x = cx + dx;
      const y = cy + dy;
      if (x >= 0 && y >= 0 && x < width && y < height) paint(rgb, y * width + x, c);
    };
    // A dark cross three pixels thick, then the white one-pixel cross on it.
    for (let d = -ANCHOR_ARM - 1; d <= ANCHOR_ARM + 1; d++) {
      for (let t = -1; t <= 1; t++) {
        at(d, t, OUTLINE_EDGE);
        at(t, d, OUTLINE_EDGE);
      }
    }
    for (let d = -ANCHOR_ARM; d <= ANCHOR_ARM; d++) {
      at(d, 0, OUTLINE_CORE);
      at(0, d, OUTLINE_CORE);
    }
  }
  return rgb;
}
