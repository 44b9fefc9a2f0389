import { AnchorSegError, invalidArg } from '../base/errors.js';

/** Ground-truth value for pixels that count neither way (LISA's ignore index). */
export const IGNORE = 255;

export interface IntersectionUnion {
  intersection: number;
  union: number;
}

export interface Scores {
  /** Mean of per-sample IoU (LISA's gIoU); 0 when n is 0, as the Python evaluation reports it. */
  gIoU: number;
  /** Cumulative intersection over cumulative union (LISA's cIoU); 0 when n is 0. */
  cIoU: number;
  n: number;
}

/** Scores over all samples, and split into short queries (`is_sentence` false) and long ones. */
export interface Report extends Scores {
  short: Scores;
  long: Scores;
}

/**
 * Foreground intersection and union of a prediction (non-zero = foreground) and a ground truth
 * (1 = foreground, 0 = background, 255 = ignored: such pixels count for neither).
 */
export function intersectionUnion(pred: Uint8Array, gt: Uint8Array): IntersectionUnion {
  if (!(pred instanceof Uint8Array)) throw invalidArg('pred', 'a Uint8Array', pred);
  if (!(gt instanceof Uint8Array)) throw invalidArg('gt', 'a Uint8Array', gt);
  if (pred.length !== gt.length) throw new AnchorSegError('ERR_INVALID_ARG', `Expected pred and gt of equal length but received ${pred.length} and ${gt.length}`);
  let inter = 0;
  let predArea = 0;
  let gtArea = 0;
  for (let i = 0; i < gt.length; i++) {
    const g = gt[i];
    if (g === IGNORE) continue;
    const p = pred[i] !== 0;
    const t = g === 1;
    if (p) predArea++;
    if (t) gtArea++;
    if (p && t) inter++;
  }
  return { intersection: inter, union: predArea + gtArea - inter };
}

/**
 * LISA's definitions: per-sample IoU = I / (U + 1e-5), where a sample with U = 0 (nothing
 * predicted, nothing there) counts 1.0; gIoU is their mean, cIoU = ΣI / (ΣU + 1e-10).
 */
export function scores(pairs: readonly IntersectionUnion[]): Scores {
  if (pairs.length === 0) return { gIoU: 0, cIoU: 0, n: 0 };
  let sumIoU = 0;
  let sumI = 0;
  let sumU = 0;
  for (const { intersection, union } of pairs) {
    sumIoU += union === 0 ? 1 : intersection / (union + 1e-5);
    sumI += intersection;
    sumU += union;
  }
  return { gIoU: sumIoU / pairs.length, cIoU: sumI / (sumU + 1e-10), n: pairs.length };
}

/** Overall scores plus the short/long split (`isSentence[i]` marks sample i as a long query). */
export function report(pairs: readonly IntersectionUnion[], isSentence: readonly boolean[]): Report {
  if (isSentence.length !== pairs.length) throw new AnchorSegError('ERR_INVALID_ARG', `Expected one isSentence flag per pair (${pairs.length}) but received ${isSentence.length}`);
  return {
    ...scores(pairs),
    short: scores(pairs.filter((_, i) => !isSentence[i])),
    long: scores(pairs.filter((_, i) => isSentence[i])),
  };
}
