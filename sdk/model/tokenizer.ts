import { GOAL_IDS, GOAL_MASK, type Bundle } from './bundle.js';
import { AnchorSegError, invalidArg } from '../base/errors.js';
import { ENGINE_NAMES, type TokenizerSpec } from './manifest.js';
import type { Tensor, TensorInfo } from '../backends/tensor.js';
import { SentencePieceEncoder } from './tokenizer-sentencepiece.js';
import { WordEncoder } from './tokenizer-word.js';

/** A goal as the model understands it. */
export interface Goal {
  /** The string the caller gave. */
  text: string;
  /** `word`: the words after normalisation, joined by single spaces; `sentencepiece`: the prompt the goal was placed in. */
  normalized: string;
  /** `word`: the words as the model reads them: a normalised word, or the vocabulary word it inflects where the manifest says `inflections` ("writing" -> "write"). */
  tokens: string[];
  ids: number[];
  /**
   * Words not in the vocabulary (each once, in order); the model sees them as the unknown token,
   * except `word` goal words in other scripts next to a-z words, which the normalisation drops
   * (docs/bundle-format.md). Empty for `sentencepiece` (byte fallback covers every character).
   */
  unknown: string[];
}

/** One tokenizer type: goal text (a string within maxChars) to ids; throws ERR_GOAL_EMPTY for a goal with nothing to read. */
export interface GoalEncoder {
  encode(text: string): Goal;
}

const FLOAT16_ONE = 0x3c00;

/**
 * The words the bundle's tokenizer knows, in id order. `word`: its vocabulary without the pad
 * and unknown tokens (any other word is read as unknown). `sentencepiece`: the pieces that are a
 * whole word (a U+2581 word start followed by letters or digits), the U+2581 removed; other words
 * are spelled from several pieces, which the model may still understand.
 */
export function vocabularyWords(bundle: Pick<Bundle, 'manifest' | 'vocab'>): string[] {
  const spec = bundle.manifest.tokenizer;
  if (spec.type === 'word') return bundle.vocab.filter((_, id) => id !== spec.padId && id !== spec.unkId);
  return [...new Set(bundle.vocab.filter((p) => /^\u2581[\p{L}\p{N}]+$/u.test(p)).map((p) => p.slice(1)))];
}

/** The bundle's tokenizer (docs/bundle-format.md, Tokenizer): limits and goal tensors around its type's encoder. */
export class Tokenizer {
  readonly #encoder: GoalEncoder;
  readonly #spec: TokenizerSpec;
  readonly #idsInfo: TensorInfo | undefined;
  readonly #maskInfo: TensorInfo | undefined;
  /** The manifest's maxTokens, lowered to a fixed goal_ids length when that is shorter. */
  readonly maxTokens: number;

  /** `idsInfo`/`maskInfo`: the engine inputs the goal tensors feed (their dtype and length). */
  constructor(encoder: GoalEncoder, spec: TokenizerSpec, idsInfo?: TensorInfo, maskInfo?: TensorInfo) {
    this.#encoder = encoder;
    this.#spec = spec;
    this.#idsInfo = idsInfo;
    this.#maskInfo = maskInfo;
    const fixed = idsInfo?.shape[1];
    this.maxTokens = typeof fixed === 'number' ? Math.min(spec.maxTokens, fixed) : spec.maxTokens;
  }

  /** The bundle's tokenizer, shaping goal tensors for the engine inputs that read them. */
  static forBundle(bundle: Bundle): Tokenizer {
    const inputs = ENGINE_NAMES.flatMap((n) => bundle.manifest.engines[n].inputs);
    const find = (name: string) => inputs.find((i) => i.name === name);
    const spec = bundle.manifest.tokenizer;
    const encoder = spec.type === 'word' ? new WordEncoder(bundle.vocab, spec.unkId, spec.inflections ?? false) : new SentencePieceEncoder(bundle.sentencePiece!, spec);
    return new Tokenizer(encoder, spec, find(GOAL_IDS), find(GOAL_MASK));
  }

  tokenize(text: unknown): Goal {
    if (typeof text !== 'string') throw invalidArg('goal', 'a string', text, 'ERR_GOAL_INVALID');
    if (text.length > this.#spec.maxChars) {
      throw new AnchorSegError('ERR_GOAL_TOO_LONG', `Expected at most ${this.#spec.maxChars} characters for goal but received ${text.length}`);
    }
    const goal = this.#encoder.encode(text);
    if (goal.ids.length > this.maxTokens) {
      const unit = this.#spec.type === 'word' ? 'words' : 'tokens';
      throw new AnchorSegError('ERR_GOAL_TOO_LONG', `Expected at most ${this.maxTokens} ${unit} for goal but received ${goal.ids.length}`);
    }
    return goal;
  }

  /** `goal_ids` and `goal_mask`: padded with padId to a fixed length, or exactly the goal's tokens where the length is dynamic. */
  tensors(goal: Goal): Record<string, Tensor> {
    const fixed = this.#idsInfo?.shape[1];
    const length = typeof fixed === 'number' ? fixed : goal.ids.length;
    const out: Record<string, Tensor> = {};
    if (this.#idsInfo) {
      const data = this.#idsInfo.dtype === 'int32' ? new Int32Array(length) : new BigInt64Array(length);
      for (let i = 0; i < length; i++) {
        const id = i < goal.ids.length ? goal.ids[i] : this.#spec.padId;
        if (data instanceof Int32Array) data[i] = id;
        else data[i] = BigInt(id);
      }
      out[GOAL_IDS] = { dtype: this.#idsInfo.dtype, dims: [1, length], data };
    }
    if (this.#maskInfo) {
      const half = this.#maskInfo.dtype === 'float16';
      const data = half ? new Uint16Array(length) : new Float32Array(length);
      data.fill(half ? FLOAT16_ONE : 1, 0, Math.min(goal.ids.length, length));
      out[GOAL_MASK] = { dtype: this.#maskInfo.dtype, dims: [1, length], data };
    }
    return out;
  }
}
