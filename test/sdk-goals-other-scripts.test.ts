/**
 * Goals in other scripts than a-z (issue 15, item 7): "找到杯子" or "чашка" used to be refused
 * with ERR_GOAL_EMPTY, as if the goal had said nothing. The word tokenizer keeps them as unknown
 * words, so the result says truthfully that the model knows none of them (found: false,
 * notFoundReason 'no-content-word'), as the Python evaluation does (its normalisation leaves no
 * word, so no content word). Ids of goals that have a-z words stay those of the Python side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { readReasonSeg } from '../sdk/data/reasonseg.js';
import { defaultDataDir } from '../sdk/evaluate.js';
import type { WordTokenizerSpec } from '../sdk/model/manifest.js';
import { Tokenizer } from '../sdk/model/tokenizer.js';
import { WordEncoder } from '../sdk/model/tokenizer-word.js';
import { Segmenter } from '../sdk/segmenter.js';
import { BUNDLE, expectCode, python } from './fixtures/sdk-helpers.js';

const spec: WordTokenizerSpec = { type: 'word', vocab: 'vocab.txt', padId: 0, unkId: 1, maxTokens: 6, maxChars: 40 };
const tok = new Tokenizer(new WordEncoder(['[PAD]', '[UNK]', 'the', 'red', 'cup', 'find'], 1), spec);

const OTHER = ['找到杯子', 'чашка', 'Найди красную чашку', 'カップ', 'الكوب', 'κούπα'];

describe('the word tokenizer on other scripts', () => {
  it.each(OTHER)('%s: kept as unknown words, not ERR_GOAL_EMPTY', (text) => {
    const g = tok.tokenize(text);
    expect(g.tokens.length).toBeGreaterThan(0);
    expect(g.ids.every((id) => id === 1)).toBe(true);
    expect(g.unknown).toEqual([...new Set(g.tokens)]);
    expect(g.normalized).toBe(g.tokens.join(' '));
  });

  it('splits on spaces and punctuation, lowercases: "Найди красную чашку!" -> three unknown words', () => {
    expect(tok.tokenize('Найди красную чашку!')).toMatchObject({ tokens: ['найди', 'красную', 'чашку'], ids: [1, 1, 1] });
  });

  it('a mixed goal keeps the Python ids (other-script words dropped) and reports those words as unknown', () => {
    expect(tok.tokenize('find the red 杯子')).toEqual({ text: 'find the red 杯子', normalized: 'find the red', tokens: ['find', 'the', 'red'], ids: [5, 2, 3], unknown: ['杯子'] });
  });

  it('a goal with no letter or digit in any script is still ERR_GOAL_EMPTY', async () => {
    for (const text of ['?! ...', '🍎', ' \u3000 ']) await expectCode(() => tok.tokenize(text), 'ERR_GOAL_EMPTY');
  });

  it('the Python normalisation leaves no word of these goals (so its evaluation finds no content word either)', () => {
    const py = JSON.parse(
      python(['-c', 'import json,sys\nfrom anchorseg.synth.text import normalize_words\nprint(json.dumps([normalize_words(g) for g in json.load(sys.stdin)]))'], JSON.stringify(OTHER)),
    ) as string[][];
    expect(py).toEqual(OTHER.map(() => []));
    expect(OTHER.map((g) => WordEncoder.normalize(g))).toEqual(py);
  });
});

describe('segment() with goals in other scripts', () => {
  let seg: Segmenter;
  let frame: Frame;
  beforeAll(async () => {
    seg = await Segmenter.open(BUNDLE, { threads: 1 });
    frame = await loadImage((await readReasonSeg(defaultDataDir()))[0].image);
  });
  afterAll(() => seg.close());

  it.each(['找到杯子', 'чашка'])('%s: found false, no-content-word, the goal reported as unknown', async (text) => {
    const r = await seg.segment(frame, text);
    expect(r).toMatchObject({ found: false, notFoundReason: 'no-content-word', goal: { text, unknown: [text] } });
    expect(r.mask.length).toBe(frame.width * frame.height);
  });
});
