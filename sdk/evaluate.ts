import { existsSync } from 'node:fs';
import path from 'node:path';
import { AnchorSegError, throwIfAborted } from './base/errors.js';
import { loadImage } from './base/image.js';
import { packageRoot } from './kernels/native.js';
import { intersectionUnion, report, type IntersectionUnion, type Report } from './data/metrics.js';
import { groundTruth, readReasonSeg } from './data/reasonseg.js';
import type { Segmenter } from './segmenter.js';

/** The committed ReasonSeg-Synth test split the default model card reports. */
export function defaultDataDir(): string {
  return path.join(packageRoot(), 'models', 'data', 'reasonseg-synth', 'test');
}

/**
 * `folder`, unless it is the default test split and that is absent: the npm package ships the
 * model and the demo sequences, the data splits only the repository holds. Then ERR_DATA_INVALID
 * saying so and what to pass instead.
 */
export function checkDefaultData(folder: string): string {
  if (folder !== defaultDataDir() || existsSync(folder)) return folder;
  throw new AnchorSegError(
    'ERR_DATA_INVALID',
    `Expected the ReasonSeg-Synth test split at ${folder} but the installed anchorseg package does not hold it (the package ships the model and the demo sequences; the data splits are in the repository only): ` +
      'pass a ReasonSeg-format folder of <id>.jpg + <id>.json pairs (`anchorseg eval --data <dir>`, `evaluate(seg, dir)`), or run it in a clone of the repository',
  );
}

export interface EvaluateOptions {
  /** Evaluate only the first `limit` samples (sorted by id). */
  limit?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * LISA-style evaluation of a segmenter on a ReasonSeg-format folder: each sample's first query,
 * the mask at the image's resolution (empty where `found` is false), gIoU/cIoU overall and by
 * short/long query.
 */
export async function evaluate(segmenter: Segmenter, folder: string = defaultDataDir(), options: EvaluateOptions = {}): Promise<Report> {
  const samples = (await readReasonSeg(checkDefaultData(folder))).slice(0, options.limit);
  const pairs: IntersectionUnion[] = [];
  options.onProgress?.(0, samples.length);
  for (const sample of samples) {
    throwIfAborted(options.signal);
    const frame = await loadImage(sample.image);
    const result = await segmenter.segment(frame, sample.texts[0], { signal: options.signal });
    // found = false is the model's answer "not there": an empty mask (LISA counts an empty union as 1)
    const answer = result.found ? result.mask : new Uint8Array(result.mask.length);
    pairs.push(intersectionUnion(answer, groundTruth(sample.shapes, frame.width, frame.height)));
    options.onProgress?.(pairs.length, samples.length);
  }
  return report(
    pairs,
    samples.map((s) => s.isSentence),
  );
}
