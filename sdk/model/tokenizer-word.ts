import { invalidArg } from '../base/errors.js';
import type { Goal, GoalEncoder } from './tokenizer.js';

/**
 * The `word` tokenizer: NFKC, lowercase, everything but a-z and 0-9 becomes a space, split on
 * whitespace (as models/anchorseg/synth/text.py normalize_words). Words in other scripts, which that
 * drops, are reported as unknown; a goal made only of them is kept as unknown words (docs/bundle-format.md).
 */
export class WordEncoder implements GoalEncoder {
  readonly #ids: Map<string, number>;
  readonly #unkId: number;

  constructor(vocab: readonly string[], unkId: number) {
    this.#ids = new Map(vocab.map((w, i) => [w, i]));
    this.#unkId = unkId;
  }

  static normalize(text: string): string[] {
    return text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, ' ')
      .split(' ')
      .filter((w) => w.length > 0);
  }

  /**
   * Words that `normalize` cuts away or apart: runs of letters, marks and digits (any script)
   * holding a character outside a-z and 0-9 ("杯子", "чашка", "café"). The model never saw such a
   * character (the Python side normalises the same way), so these words are reported as unknown.
   */
  static otherScriptWords(text: string): string[] {
    const words =
      text
        .normalize('NFKC')
        .toLowerCase()
        .match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
    return words.filter((w) => /[^a-z0-9]/.test(w));
  }

  encode(text: string): Goal {
    const latin = WordEncoder.normalize(text);
    const other = [...new Set(WordEncoder.otherScriptWords(text))];
    // A goal only in other scripts ("找到杯子") is not empty: it is kept, as unknown words, so the
    // result says truthfully that the model knows none of them (found: false, 'no-content-word').
    const tokens = latin.length > 0 ? latin : WordEncoder.otherScriptWords(text);
    if (tokens.length === 0) throw invalidArg('goal', 'at least one letter or digit', text, 'ERR_GOAL_EMPTY');
    const unknown = new Set<string>();
    const ids = tokens.map((w) => {
      const id = this.#ids.get(w);
      if (id !== undefined) return id;
      unknown.add(w);
      return this.#unkId;
    });
    // Words of other scripts in a mixed goal ("the 杯子") are dropped by the normalisation the
    // model was trained with (its ids stay those of the Python side) but still reported.
    for (const w of other) unknown.add(w);
    return { text, normalized: tokens.join(' '), tokens, ids, unknown: [...unknown] };
  }
}
