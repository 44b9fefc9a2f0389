import { invalidArg } from '../base/errors.js';
import type { Goal, GoalEncoder } from './tokenizer.js';

/** The `word` tokenizer: NFKC, lowercase, everything but a-z and 0-9 becomes a space, split on whitespace. */
export class WordEncoder implements GoalEncoder {
  readonly #ids: Map<string, number>;
  readonly #unkId: number;

  constructor(vocab: readonly string[], unkId: number) {
    this.#ids = new Map(vocab.map((w, i) => [w, i]));
    this.#unkId = unkId;
  }

  static normalize(text: string): string[] {
    return text.normalize('NFKC').toLowerCase().replace(/[^a-z0-9]/g, ' ').split(' ').filter((w) => w.length > 0);
  }

  encode(text: string): Goal {
    const tokens = WordEncoder.normalize(text);
    if (tokens.length === 0) throw invalidArg('goal', 'at least one letter or digit', text, 'ERR_GOAL_EMPTY');
    const unknown = new Set<string>();
    const ids = tokens.map((w) => {
      const id = this.#ids.get(w);
      if (id !== undefined) return id;
      unknown.add(w);
      return this.#unkId;
    });
    return { text, normalized: tokens.join(' '), tokens, ids, unknown: [...unknown] };
  }
}
