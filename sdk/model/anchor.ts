import type { Letterbox } from '../kernels/index.js';

/**
 * The anchor point (docs/bundle-format.md, Postprocessing): the argmax cell of the `grid x grid`
 * token map (row-major, first maximum wins), its centre in input pixels divided by the letterbox
 * scale along each axis, clamped to the frame's pixel range.
 */
export function anchorPoint(tokenMap: Float32Array, grid: number, letterbox: Letterbox, frameWidth: number, frameHeight: number): { x: number; y: number } {
  let best = 0;
  for (let k = 1; k < tokenMap.length; k++) if (tokenMap[k] > tokenMap[best]) best = k;
  const i = Math.floor(best / grid);
  const j = best % grid;
  const x = ((j + 0.5) * letterbox.inputWidth) / grid / letterbox.scaleX;
  const y = ((i + 0.5) * letterbox.inputHeight) / grid / letterbox.scaleY;
  return { x: Math.min(Math.max(x, 0), frameWidth - 1), y: Math.min(Math.max(y, 0), frameHeight - 1) };
}
