import { AnchorSegError, describe, invalidArg } from '../base/errors.js';
import type { SegmentResult } from '../model/result.js';
import type { ImageState } from '../model/states.js';
import { toFloat32 } from '../backends/tensor.js';

/** Why a query bank was made: the goal changed, or one of the policy's rules fired. */
export type BankReason = 'goal-change' | 'every' | 'after-ms' | 'adaptive';
export const BANK_REASONS: readonly BankReason[] = ['goal-change', 'every', 'after-ms', 'adaptive'];

/** Knobs of the adaptive rule (docs/streaming.md); any one that fires remakes the bank. */
export interface AdaptiveOptions {
  /** Remake when the score falls more than this below the score on the bank's own frame. */
  scoreDrop?: number;
  /** Remake when the token map's peak contrast falls below (1 - peakDrop) x its value on the bank's frame. */
  peakDrop?: number;
  /** Remake before decoding when the image tokens moved this far from the bank frame's (1 - mean cosine similarity, 0..2). */
  sceneChange?: number;
  /** Remake at least every this many frames, whatever the signals say. */
  maxFrames?: number;
}

/**
 * When the reasoner runs, beyond goal changes (which always remake the bank). Rules combine:
 * the first that fires remakes the bank. No rule at all: one bank per goal.
 */
export interface ReasonOptions {
  /** Remake the bank every N frames (1 = per-frame reasoning). */
  every?: number;
  /** Remake the bank once it is this old (by frame stamps where frames carry them, else by arrival time). */
  afterMs?: number;
  /** Remake the bank when the results or the scene say it went stale. */
  adaptive?: boolean | AdaptiveOptions;
}

export const ADAPTIVE_DEFAULTS: Readonly<Required<AdaptiveOptions>> = { scoreDrop: 0.15, peakDrop: 0.3, sceneChange: 0.1, maxFrames: 30 };

/** The rule set used when a stream is opened without a `reason` option. */
export const DEFAULT_REASON: Readonly<ReasonOptions> = { adaptive: true };

/** The decoder's image tokens: what the scene-change rule compares. */
const IMAGE_TOKENS = 'image_tokens';

/** How the bank in use has fared so far. */
export interface BankUse {
  /** Results decoded with it so far. */
  frames: number;
  ageMs: number;
}

/** Decides per frame whether the cached query bank is reused or remade (the dual-rate policy). */
export class ReasonPolicy {
  readonly #every: number | undefined;
  readonly #afterMs: number | undefined;
  readonly #adaptive: Required<AdaptiveOptions> | undefined;
  /** The bank's frame: its image tokens, and its score and peak contrast once decoded. */
  #tokens: Float32Array | undefined;
  #score: number | undefined;
  #peak: number | undefined;
  /** A result said the bank went stale: remake it for the next frame. */
  #stale = false;

  constructor(options: ReasonOptions = DEFAULT_REASON) {
    const o = checkReasonOptions(options);
    this.#every = o.every;
    this.#afterMs = o.afterMs;
    this.#adaptive = o.adaptive === true ? { ...ADAPTIVE_DEFAULTS } : o.adaptive ? { ...ADAPTIVE_DEFAULTS, ...o.adaptive } : undefined;
  }

  /** Why the bank must be remade before decoding `image`, or undefined to reuse it. */
  due(use: BankUse, image: ImageState): BankReason | undefined {
    if (this.#every !== undefined && use.frames >= this.#every) return 'every';
    if (this.#afterMs !== undefined && use.ageMs >= this.#afterMs) return 'after-ms';
    const a = this.#adaptive;
    if (a && (this.#stale || use.frames >= a.maxFrames || this.#sceneDistance(image) > a.sceneChange)) return 'adaptive';
    return undefined;
  }

  /** A new bank was made on `image`. */
  rebased(image: ImageState): void {
    this.#stale = false;
    this.#score = undefined;
    this.#peak = undefined;
    const tokens = this.#adaptive && image.tensors.get(IMAGE_TOKENS);
    // A copy: the bank frame's other tensors (mask features) need not stay alive.
    this.#tokens = tokens ? Float32Array.from(toFloat32(tokens)) : undefined;
  }

  /** A result decoded with the current bank; `fresh` when the bank was made on the same frame. */
  observe(result: SegmentResult, fresh: boolean): void {
    const a = this.#adaptive;
    if (!a) return;
    const peak = peakContrast(result.tokenMap.data);
    if (fresh || this.#score === undefined) {
      this.#score = result.score;
      this.#peak = peak;
      return;
    }
    if (result.score < this.#score - a.scoreDrop || peak < (1 - a.peakDrop) * this.#peak!) this.#stale = true;
  }

  /** 1 - mean cosine similarity of matching image tokens: 0 for the same scene, grows as it moves or changes. */
  #sceneDistance(image: ImageState): number {
    const ref = this.#tokens;
    const t = image.tensors.get(IMAGE_TOKENS);
    if (!ref || !t) return 0;
    const cur = toFloat32(t);
    const dim = t.dims.at(-1)!;
    if (cur.length !== ref.length) return Infinity;
    let sum = 0;
    const n = cur.length / dim;
    for (let k = 0; k < n; k++) {
      let dot = 0;
      let aa = 0;
      let bb = 0;
      for (let i = k * dim, end = i + dim; i < end; i++) {
        dot += cur[i] * ref[i];
        aa += cur[i] * cur[i];
        bb += ref[i] * ref[i];
      }
      sum += aa > 0 && bb > 0 ? dot / Math.sqrt(aa * bb) : 1;
    }
    return 1 - sum / n;
  }
}

/**
 * How much the token map's maximum stands out: (max - mean) / (max - min), in [0, 1]. A sharp
 * single peak is near 1; a flat or diffuse map near 0. Scale-free, so raw and min-max normalised maps read alike.
 */
export function peakContrast(map: Float32Array): number {
  let max = -Infinity;
  let min = Infinity;
  let sum = 0;
  for (const v of map) {
    if (v > max) max = v;
    if (v < min) min = v;
    sum += v;
  }
  const range = max - min;
  return range > 0 ? (max - sum / map.length) / range : 0;
}

/** Validates a `reason` option: known keys, positive numbers, knobs in range. */
export function checkReasonOptions(options: unknown): ReasonOptions {
  const o = checkBag(options, 'options.reason', ['every', 'afterMs', 'adaptive']);
  if (o.every !== undefined && !isInt(o.every, 1)) throw invalidArg('options.reason.every', 'integer >= 1', o.every);
  if (o.afterMs !== undefined && !(typeof o.afterMs === 'number' && Number.isFinite(o.afterMs) && o.afterMs > 0)) {
    throw invalidArg('options.reason.afterMs', 'number > 0', o.afterMs);
  }
  if (o.adaptive !== undefined && typeof o.adaptive !== 'boolean') {
    const a = checkBag(o.adaptive, 'options.reason.adaptive', Object.keys(ADAPTIVE_DEFAULTS));
    // Each knob's top value switches its rule off: scores and contrasts lie in [0, 1], cosine distances in [0, 2].
    for (const [key, max] of [
      ['scoreDrop', 1],
      ['peakDrop', 1],
      ['sceneChange', 2],
    ] as const) {
      const v = a[key];
      if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= max)) throw invalidArg(`options.reason.adaptive.${key}`, `number between 0 and ${max}`, v);
    }
    if (a.maxFrames !== undefined && !isInt(a.maxFrames, 1)) throw invalidArg('options.reason.adaptive.maxFrames', 'integer >= 1', a.maxFrames);
  }
  return o as ReasonOptions;
}

function isInt(v: unknown, min: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

/** An options object (or undefined) whose keys are all known. */
export function checkBag(options: unknown, name: string, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidArg(name, 'an object', options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${name} keys among ${known.join(', ')} but received unknown key "${key}" (${describe(o[key])})`);
  }
  return o;
}
