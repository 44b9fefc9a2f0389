import type { Stamp } from '../base/frame.js';
import type { Goal } from './tokenizer.js';

/**
 * Why `found` is false: 'no-content-word' = none of the goal's words is a known word outside the
 * manifest's `tokenizer.functionWords` (e.g. every word is unknown), so there is nothing to look
 * for whatever the score; 'low-score' = the score is below the manifest's `score.threshold`.
 */
export type NotFoundReason = 'no-content-word' | 'low-score';

/** The rule behind `found` (models/anchorseg/tokenizer.py `not_found_reason` is the same rule): null = found. */
export function notFoundReason(goal: Goal, score: number, threshold: number, functionWords: ReadonlySet<string>): NotFoundReason | null {
  const unknown = new Set(goal.unknown);
  if (!goal.tokens.some((w) => !unknown.has(w) && !functionWords.has(w))) return 'no-content-word';
  return score >= threshold ? null : 'low-score';
}

/**
 * Per-stage milliseconds. An engine stage run alone (encodeImage, reason, decode) includes the
 * hand-off to the engine's thread; when segment() runs the three engines in one hand-off (the
 * onnx backend), each engine stage is that engine's own run time and the hand-off is in `vision`.
 */
export interface Timings {
  preprocess: number;
  vision: number;
  /** 0 when the query bank was made for another frame (streaming reuses it). */
  reasoner: number;
  decoder: number;
  postprocess: number;
  /** The sum of the stages (time spent waiting for a busy engine is not included). */
  total: number;
}

export interface SegmentResult {
  /** Row-major, one byte per frame pixel: 255 = the goal's pixels, 0 = not. */
  mask: Uint8Array;
  width: number;
  height: number;
  /** The model's probability that the goal is in the frame, in [0, 1]. */
  score: number;
  /**
   * `notFoundReason === null`: the goal has a known content word and `score >= score.threshold`
   * of the bundle manifest (chosen on the val split at export). When false the goal is taken to
   * be not in the frame; `mask` still holds the model's best guess, and `evaluate()` scores the
   * result as an empty mask.
   */
  found: boolean;
  /** Why `found` is false; null when it is true. */
  notFoundReason: NotFoundReason | null;
  /** COCO `[x, y, width, height]` of the mask pixels; null for an empty mask. */
  bbox: [number, number, number, number] | null;
  /** Number of mask pixels. */
  area: number;
  /** Where the anchor token points: the centre of the token-map cell with the highest value, in frame pixels. */
  anchor: { x: number; y: number };
  /** The anchor x image-token similarity map, `grid x grid`, row-major. */
  tokenMap: { grid: number; data: Float32Array };
  timings: Timings;
  /** The goal as the model understood it. */
  goal: Goal;
  stamp?: Stamp;
  frameId?: string;
}
