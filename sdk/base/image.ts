import sharp from 'sharp';
import { AnchorSegError, invalidArg } from './errors.js';
import type { Frame } from './frame.js';

/**
 * Decodes a PNG or JPEG file into an rgb8 frame (alpha dropped, greyscale expanded). Pixels are
 * taken as stored: EXIF orientation is not applied, as camera frames and the Python tools do not.
 */
export async function loadImage(file: string): Promise<Frame> {
  if (typeof file !== 'string' || file.length === 0) throw invalidArg('file', 'a path string', file);
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, encoding: 'rgb8', step: info.width * 3, data, frameId: file };
  } catch (err) {
    throw new AnchorSegError('ERR_FRAME_INVALID', `Expected a readable PNG or JPEG image at ${file} but ${(err as Error).message}`, { cause: err });
  }
}
