import { invalidArg } from '../base/errors.js';
import { GOAL_SLOT, type SentencePieceTokenizerSpec, type SpecialToken } from './manifest.js';
import type { SentencePieceModel } from './sentencepiece.js';
import type { Goal, GoalEncoder } from './tokenizer.js';

/**
 * The `sentencepiece` tokenizer: the goal (trimmed) is placed in the manifest's template (`long`
 * when it ends like a sentence, with `.`, `?` or `!`; else `short`), the prompt is cut at the
 * special tokens, and each text piece between them is encoded by SentencePiece on its own (as
 * transformers' slow LLaMA tokenizer does with added tokens, so each piece gets the dummy prefix).
 */
export class SentencePieceEncoder implements GoalEncoder {
  readonly #model: SentencePieceModel;
  readonly #spec: SentencePieceTokenizerSpec;
  /** Special tokens, longest first so that one holding another wins. */
  readonly #special: SpecialToken[];

  constructor(model: SentencePieceModel, spec: SentencePieceTokenizerSpec) {
    this.#model = model;
    this.#spec = spec;
    this.#special = [...spec.specialTokens].sort((a, b) => b.text.length - a.text.length);
  }

  encode(text: string): Goal {
    const goal = text.trim();
    if (goal.length === 0) throw invalidArg('goal', 'at least one character that is not whitespace', text, 'ERR_GOAL_EMPTY');
    const template = /[.?!]$/.test(goal) ? this.#spec.templates.long : this.#spec.templates.short;
    const prompt = template.replace(GOAL_SLOT, () => goal);
    const ids: number[] = [];
    const tokens: string[] = [];
    for (const part of this.split(prompt)) {
      if (typeof part !== 'string') {
        ids.push(part.id);
        tokens.push(part.text);
      } else if (part.length > 0) {
        const enc = this.#model.encode(part);
        ids.push(...enc.ids);
        tokens.push(...enc.pieces);
      }
    }
    return { text, normalized: prompt, tokens, ids, unknown: [] };
  }

  /** The prompt as text pieces and special tokens, leftmost match first; stripping tokens trim the text beside them. */
  split(prompt: string): (string | SpecialToken)[] {
    const parts: (string | SpecialToken)[] = [];
    let start = 0;
    for (let i = 0; i < prompt.length; ) {
      const token = this.#special.find((t) => prompt.startsWith(t.text, i));
      if (!token) {
        i++;
        continue;
      }
      parts.push(prompt.slice(start, i), token);
      i += token.text.length;
      start = i;
    }
    parts.push(prompt.slice(start));
    parts.forEach((p, k) => {
      if (typeof p !== 'string') return;
      const before = parts[k - 1];
      const after = parts[k + 1];
      let s = p;
      if (typeof before === 'object' && before.strip) s = s.trimStart();
      if (typeof after === 'object' && after.strip) s = s.trimEnd();
      parts[k] = s;
    });
    return parts;
  }
}
