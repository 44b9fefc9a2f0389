import sharp from 'sharp';
import type { Frame } from '../base/frame.js';
import { overlay, rleEncode, type Rgb, type Rle } from '../kernels/index.js';
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

/** The frame with the mask blended in `color` (default green) as an RGB PNG. */
export function encodeOverlayPng(frame: Frame, result: MaskOf, style: { color?: Rgb; alpha?: number } = {}): Promise<Buffer> {
  const rgb = overlay(frame, result.mask, style.color, style.alpha);
  return sharp(rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .png()
    .toBuffer();
}

/** COCO compressed RLE of the mask, byte-identical to pycocotools' `mask.encode`. */
export function toRle(result: MaskOf): Rle {
  return rleEncode(result.mask, result.width, result.height);
}
