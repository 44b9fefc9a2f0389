import sharp from 'sharp';
import type { Frame } from '../base/frame.js';
import { overlayResult, rleEncode, type OverlayStyle, type Rle } from '../kernels/index.js';
import { validateMask } from '../kernels/spec.js';
import type { SegmentResult } from './result.js';

type MaskOf = Pick<SegmentResult, 'mask' | 'width' | 'height'>;

/** The mask as a greyscale PNG (255 = goal pixels). */
export async function encodeMaskPng(result: MaskOf): Promise<Buffer> {
  validateMask(result.mask, result.width, result.height, 'result.mask');
  // 'b-w' keeps the PNG single-channel (sharp would otherwise widen raw greyscale to sRGB).
  return sharp(result.mask, { raw: { width: result.width, height: result.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/**
 * The frame with the result drawn on it, as an RGB PNG: the mask lightly filled in `color`
 * (default cyan, `alpha` 0.3), its outline (a white ring on the mask's boundary pixels, a dark
 * ring outside), the bbox (amber) and the anchor, the token map's peak (a white cross edged in
 * dark). `outline`/`bbox`/`anchor: false` leave a mark out; a result without bbox or anchor has none.
 */
export function encodeOverlayPng(frame: Frame, result: MaskOf & Partial<Pick<SegmentResult, 'bbox' | 'anchor'>>, style: OverlayStyle = {}): Promise<Buffer> {
  validateMask(result.mask, frame.width, frame.height, 'result.mask');
  const rgb = overlayResult(frame, result, style);
  return sharp(rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .png()
    .toBuffer();
}

/** COCO compressed RLE of the mask, byte-identical to pycocotools' `mask.encode`. */
export function toRle(result: MaskOf): Rle {
  return rleEncode(result.mask, result.width, result.height);
}
