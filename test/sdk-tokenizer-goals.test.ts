/** Goals: the bundle's word tokenizer (normalisation identical to the Python side), goal tensors, goal errors. */
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../sdk/model/bundle.js';
import type { WordTokenizerSpec } from '../sdk/model/manifest.js';
import { Tokenizer } from '../sdk/model/tokenizer.js';
import { baseForms, WordEncoder } from '../sdk/model/tokenizer-word.js';
import { BUNDLE, expectCode, python } from './fixtures/sdk-helpers.js';

const spec: WordTokenizerSpec = { type: 'word', vocab: 'vocab.txt', padId: 0, unkId: 1, maxTokens: 6, maxChars: 40 };
const vocab = ['[PAD]', '[UNK]', 'the', 'red', 'cup', '2'];
const fixedIds = { name: 'goal_ids', dtype: 'int64' as const, shape: [1, 8] };
const fixedMask = { name: 'goal_mask', dtype: 'float32' as const, shape: [1, 8] };

describe('Tokenizer', () => {
  const tok = new Tokenizer(new WordEncoder(vocab, spec.unkId), spec, fixedIds, fixedMask);

  it('normalises, maps words to ids and reports unknown words once each', () => {
    const g = tok.tokenize('The RED cup, please... please!');
    expect(g).toEqual({
      text: 'The RED cup, please... please!',
      normalized: 'the red cup please please',
      tokens: ['the', 'red', 'cup', 'please', 'please'],
      ids: [2, 3, 4, 1, 1],
      unknown: ['please'],
    });
  });

  it('pads goal tensors to a fixed length and marks real tokens', () => {
    const t = tok.tensors(tok.tokenize('red cup'));
    expect(t.goal_ids.dims).toEqual([1, 8]);
    expect([...(t.goal_ids.data as BigInt64Array)]).toEqual([3n, 4n, 0n, 0n, 0n, 0n, 0n, 0n]);
    expect([...t.goal_mask.data]).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('sends exactly the tokens where the length is dynamic; int32 ids and float16 mask where declared', () => {
    const dyn = new Tokenizer(new WordEncoder(vocab, spec.unkId), spec, { name: 'goal_ids', dtype: 'int32', shape: [1, 'T'] }, { name: 'goal_mask', dtype: 'float16', shape: [1, 'T'] });
    const t = dyn.tensors(dyn.tokenize('the cup 2'));
    expect(t.goal_ids.data).toBeInstanceOf(Int32Array);
    expect([...t.goal_ids.data]).toEqual([2, 4, 5]);
    expect([...(t.goal_mask.data as Uint16Array)]).toEqual([0x3c00, 0x3c00, 0x3c00]);
    expect(dyn.maxTokens).toBe(6);
  });

  it('caps maxTokens at a shorter fixed goal_ids length', () => {
    expect(new Tokenizer(new WordEncoder(vocab, spec.unkId), { ...spec, maxTokens: 40 }, fixedIds, fixedMask).maxTokens).toBe(8);
  });

  it.each([
    ['an empty goal', '', 'ERR_GOAL_EMPTY', /at least one letter or digit for goal but received "" of type string \(length 0\)/],
    ['a whitespace goal', ' \t\n ', 'ERR_GOAL_EMPTY', /length 4/],
    ['a punctuation-only goal', '?! ...', 'ERR_GOAL_EMPTY', /"\?! \.\.\."/],
    ['too many words', 'a b c d e f g', 'ERR_GOAL_TOO_LONG', /at most 6 words for goal but received 7/],
    ['too many characters', 'x'.repeat(41), 'ERR_GOAL_TOO_LONG', /at most 40 characters for goal but received 41/],
    ['a number', 42, 'ERR_GOAL_INVALID', /a string for goal but received 42 of type number/],
    ['null', null, 'ERR_GOAL_INVALID', /received null/],
    ['an object', { text: 'cup' }, 'ERR_GOAL_INVALID', /value of type object/],
  ])('refuses %s', async (_n, goal, code, message) => {
    expect((await expectCode(() => tok.tokenize(goal), code)).message).toMatch(message);
  });

  it('normalises exactly as the Python tokenizer (anchorseg.synth.text.normalize_words)', () => {
    const goals = [
      'The RED cup!',
      'ｆｕｌｌｗｉｄｔｈ　ＣＵＰ２',
      'Ünïcödé straße café',
      'ﬁve ﬂowers ① ²',
      "what's the thing-I can pour water into?",
      'tab\tnew\nline\u00a0nbsp',
      'İstanbul K (kelvin) Ⅻ',
      'emoji 🍎 apple',
    ];
    const py = JSON.parse(
      python(['-c', 'import json,sys\nfrom anchorseg.synth.text import normalize_words\nprint(json.dumps([normalize_words(g) for g in json.load(sys.stdin)]))'], JSON.stringify(goals)),
    );
    expect(goals.map((g) => WordEncoder.normalize(g))).toEqual(py);
  });

  it('reads an unknown word as the vocabulary word it inflects only where asked (tokenizer.inflections)', () => {
    const words = [...vocab, 'write', 'find'];
    const on = new Tokenizer(new WordEncoder(words, spec.unkId, true), spec, fixedIds, fixedMask);
    expect(on.tokenize('Writing cups, please')).toEqual({
      text: 'Writing cups, please',
      normalized: 'writing cups please',
      tokens: ['write', 'cup', 'please'],
      ids: [6, 4, 1],
      unknown: ['please'],
    });
    expect(new Tokenizer(new WordEncoder(words, spec.unkId), spec, fixedIds, fixedMask).tokenize('writing cups').ids).toEqual([1, 1]);
    // an inflected function word stays a function word: the rule reads tokens, not the written words
    expect(on.tokenize('finding the cups').tokens).toEqual(['find', 'the', 'cup']);
  });

  it('finds the same base forms as the Python tokenizer (anchorseg.tokenizer.base_forms)', () => {
    const words = ['writing', 'chopping', 'berries', 'littler', 'coloured', 'cups', 'glasses', 'glass', 'bus', 'biggest', 'boxes', 'tried', 'hopped', 'sees', 'is', 'ｃｕｐｓ'];
    const py = JSON.parse(python(['-c', 'import json,sys\nfrom anchorseg.tokenizer import base_forms\nprint(json.dumps([base_forms(w) for w in json.load(sys.stdin)]))'], JSON.stringify(words)));
    expect(words.map((w) => baseForms(w))).toEqual(py);
    expect(baseForms('chopping')).toEqual(['chopp', 'choppe', 'chop']);
  });

  it('reads the embedded bundle vocabulary: known words get their line index', async () => {
    const bundle = await loadBundle(BUNDLE);
    const t = Tokenizer.forBundle(bundle);
    const word = bundle.vocab[5];
    expect(t.tokenize(word).ids).toEqual([5]);
    expect(t.maxTokens).toBe(bundle.manifest.tokenizer.maxTokens);
  });
});
