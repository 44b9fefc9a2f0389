import { GOAL_IDS, GOAL_MASK, type Bundle } from './bundle.js';
import { AnchorSegError, invalidArg } from './errors.js';
import { ENGINE_NAMES, type TokenizerSpec } from './manifest.js';
import type { Tensor, TensorInfo } from './tensor.js';

/** A goal as the model understands it. */
export interface Goal {
  /** The string the caller gave. */
  text: string;
  /** The words after normalisation, joined by single spaces. */
  normalized: string;
  tokens: string[];
  ids: number[];
  /** Words not in the vocabulary (each once, in order); the model sees them as the unknown token. */
  unknown: string[];
}

const FLOAT16_ONE = 0x3c00;

/** The bundle's `word` tokenizer (docs/bundle-format.md, Tokenizer). */
export class Tokenizer {
  readonly #ids: Map<string, number>;
  readonly #spec: TokenizerSpec;
  readonly #idsInfo: TensorInfo | undefined;
  readonly #maskInfo: TensorInfo | undefined;
  /** The manifest's maxTokens, lowered to a fixed goal_ids length when that is shorter. */
  readonly maxTokens: number;

  /** `idsInfo`/`maskInfo`: the engine inputs the goal tensors feed (their dtype and length). */
  constructor(vocab: readonly string[], spec: TokenizerSpec, idsInfo?: TensorInfo, maskInfo?: TensorInfo) {
    this.#ids = new Map(vocab.map((w, i) => [w, i]));
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
    return new Tokenizer(bundle.vocab, bundle.manifest.tokenizer, find(GOAL_IDS), find(GOAL_MASK));
  }

  /** NFKC, lowercase, everything but a-z and 0-9 becomes a space, split on whitespace. */
  static normalize(text: string): string[] {
    return text.normalize('NFKC').toLowerCase().replace(/[^a-z0-9]/g, ' ').split(' ').filter((w) => w.length > 0);
  }

  tokenize(text: unknown): Goal {
    if (typeof text !== 'string') throw invalidArg('goal', 'a string', text, 'ERR_GOAL_INVALID');
    if (text.length > this.#spec.maxChars) {
      throw new AnchorSegError('ERR_GOAL_TOO_LONG', `Expected at most ${this.#spec.maxChars} characters for goal but received ${text.length}`);
    }
    const tokens = Tokenizer.normalize(text);
    if (tokens.length === 0) throw invalidArg('goal', 'at least one letter or digit', text, 'ERR_GOAL_EMPTY');
    if (tokens.length > this.maxTokens) {
      throw new AnchorSegError('ERR_GOAL_TOO_LONG', `Expected at most ${this.maxTokens} words for goal but received ${tokens.length}`);
    }
    const unknown = new Set<string>();
    const ids = tokens.map((w) => {
      const id = this.#ids.get(w);
      if (id !== undefined) return id;
      unknown.add(w);
      return this.#spec.unkId;
    });
    return { text, normalized: tokens.join(' '), tokens, ids, unknown: [...unknown] };
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
