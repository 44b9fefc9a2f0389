/** The anchor point (docs/bundle-format.md, Postprocessing) under both letterbox modes. */
import { expect, it } from 'vitest';
import { letterboxFor } from '../sdk/kernels/index.js';
import { anchorPoint } from '../sdk/model/anchor.js';

/** A 10x10 token map whose maximum is cell (i, j). */
function peakAt(i: number, j: number): Float32Array {
  const map = new Float32Array(100).fill(-1);
  map[i * 10 + j] = 2;
  return map;
}

it('letterboxed: the cell centre divided by the one scale; a cell in the padding clamps into the frame', () => {
  const lb = letterboxFor(640, 480, 160, 160); // scale 1/4, content 160 x 120
  expect(anchorPoint(peakAt(2, 3), 10, lb, 640, 480)).toEqual({ x: 224, y: 160 });
  expect(anchorPoint(peakAt(9, 0), 10, lb, 640, 480)).toEqual({ x: 32, y: 479 });
});

it('stretched (letterbox none): each axis by its own scale, so the bottom row of cells lies inside the frame', () => {
  const lb = letterboxFor(640, 480, 160, 160, 'none'); // 1/4 across, 1/3 down
  const a = anchorPoint(peakAt(2, 3), 10, lb, 640, 480);
  expect(a.x).toBeCloseTo(224, 9);
  expect(a.y).toBeCloseTo(120, 9);
  const b = anchorPoint(peakAt(9, 0), 10, lb, 640, 480);
  expect(b.x).toBeCloseTo(32, 9);
  expect(b.y).toBeCloseTo(456, 9);
});
