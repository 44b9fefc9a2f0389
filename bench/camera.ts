/** What the transport benchmarks (zmq, view) share: camera-sized frames decoded up front, and medians. */
import sharp from 'sharp';
import type { Frame } from '../sdk/base/frame.js';
import { defaultSequencesDir, readSequences } from '../sdk/stream/sources.js';

export const WIDTH = 640;
export const HEIGHT = 480;

export const median = (xs: number[]): number => quantile(xs, 0.5);

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
}

/** The first sequence's frames scaled to 640x480 rgb8, decoded once up front (decoding is not what is measured). */
export async function cameraFrames(count: number): Promise<{ frames: Frame[]; goal: string }> {
  const [seq] = await readSequences(defaultSequencesDir());
  const distinct = await Promise.all(
    seq.frames.slice(0, 30).map(async (f) => {
      const data = await sharp(f.file).resize(WIDTH, HEIGHT, { fit: 'fill' }).removeAlpha().raw().toBuffer();
      return { width: WIDTH, height: HEIGHT, encoding: 'rgb8' as const, step: WIDTH * 3, data };
    }),
  );
  return { frames: Array.from({ length: count }, (_, i) => ({ ...distinct[i % distinct.length], frameId: `f${i}` })), goal: seq.goal };
}
