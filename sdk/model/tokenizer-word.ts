import { invalidArg } from '../base/errors.js';
import type { Goal, GoalEncoder } from './tokenizer.js';

/** Inflectional endings tried, longest first, on a word outside the vocabulary. */
const SUFFIXES = ['ies', 'est', 'ing', 'es', 'ed', 'er', 's'];

/**
 * The words `word` may be an inflection of, in the order they are tried ("writing": writ, write;
 * "chopping": chopp, choppe, chop; "berries": berry): each ending's stem (3 letters at least), the
 * stem + e (unless it ends in e), the stem less a doubled consonant, and y for -ies. The same rule as
 * models/anchorseg/tokenizer.py `base_forms` (test/sdk-tokenizer-goals.test.ts compares them).
 */
export function baseForms(word: string): string[] {
  const out: string[] = [];
  for (const suffix of SUFFIXES) {
    if (!word.endsWith(suffix) || (suffix === 's' && word.endsWith('ss')) || word.length - suffix.length < 3) continue;
    const stem = word.slice(0, -suffix.length);
    const doubled = stem.at(-1) === stem.at(-2) && !'aeiou'.includes(stem.at(-1)!);
    const forms = suffix === 'ies' ? [`${stem}y`] : [stem, ...(stem.endsWith('e') ? [] : [`${stem}e`]), ...(doubled ? [stem.slice(0, -1)] : [])];
    for (const f of forms) if (!out.includes(f)) out.push(f);
  }
  return out;
}

/**
 * The `word` tokenizer: NFKC, lowercase, everything but a-z and 0-9 becomes a space, split on
 * whitespace (as models/anchorseg/synth/text.py normalize_words). Words in other scripts, which that
 * drops, are reported as unknown; a goal made only of them is kept as unknown words (docs/bundle-format.md).
 * With `inflections`, a word outside the vocabulary is read as the first of its `baseForms` in it.
 */
export class WordEncoder implements GoalEncoder {
  readonly #ids: Map<string, number>;
  readonly #unkId: number;
  readonly #inflections: boolean;

  constructor(vocab: readonly string[], unkId: number, inflections = false) {
    this.#ids = new Map(vocab.map((w, i) => [w, i]));
    this.#unkId = unkId;
    this.#inflections = inflections;
  }

  /** The vocabulary word the model reads for `word` (itself, or with `inflections` a base form); undefined if unknown. */
  read(word: string): string | undefined {
    if (this.#ids.has(word)) return word;
    return this.#inflections ? baseForms(word).find((f) => this.#ids.has(f)) : undefined;
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
    const words = latin.length > 0 ? latin : WordEncoder.otherScriptWords(text);
    if (words.length === 0) throw invalidArg('goal', 'at least one letter or digit', text, 'ERR_GOAL_EMPTY');
    const unknown = new Set<string>();
    const tokens = words.map((w) => {
      const read = this.read(w);
      if (read === undefined) unknown.add(w);
      return read ?? w;
    });
    const ids = tokens.map((w) => this.#ids.get(w) ?? this.#unkId);
    // Words of other scripts in a mixed goal ("the 杯子") are dropped by the normalisation the
    // model was trained with (its ids stay those of the Python side) but still reported.
    for (const w of other) unknown.add(w);
    return { text, normalized: words.join(' '), tokens, ids, unknown: [...unknown] };
  }
}
