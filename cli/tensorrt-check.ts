/**
 * `anchorseg build-engine --check`: the same frames and goals through a candidate backend
 * (TensorRT) and ONNX Runtime on the CPU, compared result by result. FP16 engines have produced
 * wrong masks for ViT encoders elsewhere (TensorRT notes), so a plan is trusted only after this.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defaultDataDir } from '../sdk/evaluate.js';
import { throwIfAborted } from '../sdk/base/errors.js';
import { loadImage } from '../sdk/base/image.js';
import { readReasonSeg } from '../sdk/data/reasonseg.js';
import type { SegmentResult } from '../sdk/model/result.js';
import { Segmenter } from '../sdk/segmenter.js';
import { readSequences } from '../sdk/stream/sources.js';

export interface CheckRow {
  id: string;
  goal: string;
  /** Mask IoU (1 when both are empty). */
  iou: number;
  scoreDiff: number;
  tokenMapMaxDiff: number;
  foundAgrees: boolean;
}

/** Starting thresholds, stated in docs/tensorrt.md; to be revisited with the first Jetson numbers. */
export const CHECK_LIMITS = { minIou: 0.9, minMeanIou: 0.97, maxScoreDiff: 0.05 } as const;

export function compareResults(id: string, goal: string, candidate: SegmentResult, reference: SegmentResult): CheckRow {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < candidate.mask.length; i++) {
    const a = candidate.mask[i] !== 0;
    const b = reference.mask[i] !== 0;
    if (a && b) inter++;
    if (a || b) union++;
  }
  let tokenMapMaxDiff = 0;
  for (let i = 0; i < reference.tokenMap.data.length; i++) {
    tokenMapMaxDiff = Math.max(tokenMapMaxDiff, Math.abs(candidate.tokenMap.data[i] - reference.tokenMap.data[i]));
  }
  return {
    id,
    goal,
    iou: union === 0 ? 1 : inter / union,
    scoreDiff: Math.abs(candidate.score - reference.score),
    tokenMapMaxDiff,
    foundAgrees: candidate.found === reference.found,
  };
}

export interface CheckVerdict {
  pass: boolean;
  meanIou: number;
  /** Why it failed, one entry per broken limit. */
  problems: string[];
}

export function verdict(rows: readonly CheckRow[]): CheckVerdict {
  const meanIou = rows.reduce((a, r) => a + r.iou, 0) / Math.max(1, rows.length);
  const problems: string[] = [];
  if (rows.length === 0) problems.push('no frames compared');
  for (const r of rows) {
    if (r.iou < CHECK_LIMITS.minIou) problems.push(`${r.id}: mask IoU ${r.iou.toFixed(3)} < ${CHECK_LIMITS.minIou}`);
    if (r.scoreDiff > CHECK_LIMITS.maxScoreDiff) problems.push(`${r.id}: score differs by ${r.scoreDiff.toFixed(3)} > ${CHECK_LIMITS.maxScoreDiff}`);
    if (!r.foundAgrees) problems.push(`${r.id}: found/not-found disagrees`);
  }
  if (meanIou < CHECK_LIMITS.minMeanIou) problems.push(`mean mask IoU ${meanIou.toFixed(3)} < ${CHECK_LIMITS.minMeanIou}`);
  return { pass: problems.length === 0, meanIou, problems };
}

export interface CheckOptions {
  bundleDir?: string;
  /** The backend under test (default tensorrt) and the one it must agree with (default onnx). */
  candidate?: string;
  reference?: string;
  /** ReasonSeg-Synth test frames to compare (the first N, each with its first query). */
  frames?: number;
  signal?: AbortSignal;
}

/**
 * The frames to compare: the ReasonSeg-Synth test split's first ones (first query each); in the
 * installed package, which holds no data split, frames spread over the bundled moving sequences.
 */
async function checkSamples(frames: number): Promise<{ id: string; image: string; goal: string }[]> {
  if (existsSync(defaultDataDir())) return (await readReasonSeg(defaultDataDir())).slice(0, frames).map((s) => ({ id: s.id, image: s.image, goal: s.texts[0] }));
  const sequences = await readSequences();
  const per = Math.ceil(frames / sequences.length);
  const picked = sequences.flatMap((seq) =>
    Array.from({ length: Math.min(per, seq.frames.length) }, (_, i) => {
      const f = seq.frames[Math.floor((i * seq.frames.length) / per)];
      return { id: `${seq.name}/${path.basename(f.file)}`, image: f.file, goal: seq.goal };
    }),
  );
  return picked.slice(0, frames);
}

export async function checkBackends(options: CheckOptions = {}): Promise<{ rows: CheckRow[]; verdict: CheckVerdict }> {
  const { bundleDir, candidate = 'tensorrt', reference = 'onnx', frames = 8, signal } = options;
  const samples = await checkSamples(frames);
  const a = await Segmenter.open(bundleDir, { backend: candidate, signal });
  try {
    const b = await Segmenter.open(bundleDir, { backend: reference, signal });
    try {
      const rows: CheckRow[] = [];
      for (const s of samples) {
        throwIfAborted(signal);
        const frame = await loadImage(s.image);
        const goal = s.goal;
        rows.push(compareResults(s.id, goal, await a.segment(frame, goal, { signal }), await b.segment(frame, goal, { signal })));
      }
      return { rows, verdict: verdict(rows) };
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}
