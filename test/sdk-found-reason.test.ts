/** `found` / `notFoundReason`: a goal with no known content word is never looked for (issue #13). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDataDir } from '../sdk/evaluate.js';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { readReasonSeg } from '../sdk/data/reasonseg.js';
import { notFoundReason } from '../sdk/model/result.js';
import { Segmenter } from '../sdk/segmenter.js';
import type { Goal } from '../sdk/model/tokenizer.js';
import { BUNDLE, copyBundle, expectCode, python, removeTemps } from './fixtures/sdk-helpers.js';

// Everyday words outside the shipped vocabulary (checked below), two or three to a goal.
const WORDS = [
  'umbrella',
  'telescope',
  'giraffe',
  'sandwich',
  'keyboard',
  'quickly',
  'yesterday',
  'wallet',
  'guitar',
  'pillow',
  'bicycle',
  'ocean',
  'tomorrow',
  'ladder',
  'spoon',
  'blanket',
  'zebra',
  'violin',
  'toaster',
  'helmet',
];
const UNKNOWN_GOALS = Array.from({ length: 100 }, (_, i) => [WORDS[i % 20], WORDS[(i * 7 + 3) % 20], ...(i % 3 === 0 ? [WORDS[(i * 11 + 5) % 20]] : [])].join(' '));

const goal = (tokens: string[], unknown: string[] = []): Goal => ({ text: tokens.join(' '), normalized: tokens.join(' '), tokens, ids: [], unknown });

describe('notFoundReason (the rule)', () => {
  const fn = new Set(['find', 'the', 'please']);
  it('says no-content-word when every word is unknown or a function word, whatever the score', () => {
    expect(notFoundReason(goal(['zebra'], ['zebra']), 0.99, 0.2, fn)).toBe('no-content-word');
    expect(notFoundReason(goal(['find', 'the', 'zebra', 'please'], ['zebra']), 0.99, 0.2, fn)).toBe('no-content-word');
  });
  it('otherwise follows the score threshold', () => {
    expect(notFoundReason(goal(['find', 'the', 'cup']), 0.2, 0.2, fn)).toBeNull();
    expect(notFoundReason(goal(['find', 'the', 'cup']), 0.19, 0.2, fn)).toBe('low-score');
    expect(notFoundReason(goal(['find', 'the', 'cup']), 0.19, 0.2, new Set())).toBe('low-score');
  });
});

describe('on the real bundle', () => {
  let seg: Segmenter;
  let frames: Frame[];
  beforeAll(async () => {
    seg = await Segmenter.open(BUNDLE, { threads: 1 });
    const samples = (await readReasonSeg(defaultDataDir())).slice(0, 10);
    frames = await Promise.all(samples.map((s) => loadImage(s.image)));
  });
  afterAll(async () => {
    await seg.close();
    await removeTemps();
  });

  it('answers found: false for every all-unknown goal (>= 95 % required, the rule gives all)', async () => {
    let notFound = 0;
    for (const [i, text] of UNKNOWN_GOALS.entries()) {
      const r = await seg.segment(frames[i % frames.length], text);
      expect(r.goal.unknown.length).toBe(new Set(r.goal.tokens).size); // really all unknown
      if (!r.found) notFound++;
      expect(r.notFoundReason).toBe('no-content-word');
    }
    expect(notFound / UNKNOWN_GOALS.length).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps found = score >= threshold for goals with a content word, with the reason when not', async () => {
    const threshold = seg.manifest.score.threshold;
    for (const text of ['find the red cup', 'the striped thing you can eat', 'where is the banana']) {
      const r = await seg.segment(frames[0], text);
      expect(r.found).toBe(r.score >= threshold);
      expect(r.notFoundReason).toBe(r.found ? null : 'low-score');
    }
  });

  it("reads the manifest's tokenizer.functionWords: a goal of known function words only is not looked for", async () => {
    const dir = await copyBundle((m) => {
      m.tokenizer.functionWords = ['find', 'the', 'thing', 'where', 'is', 'me', 'show'];
    });
    const other = await Segmenter.open(dir, { threads: 1 });
    try {
      const none = await other.segment(frames[0], 'show me where the thing is');
      expect(none.goal.unknown).toEqual([]);
      expect(none).toMatchObject({ found: false, notFoundReason: 'no-content-word' });
      const some = await other.segment(frames[0], 'find the red thing');
      expect(some.notFoundReason).not.toBe('no-content-word');
    } finally {
      await other.close();
    }
  });

  it('refuses a tokenizer.functionWords that is not a list of strings, naming it', async () => {
    for (const bad of ['find the', ['find', 3]]) {
      const dir = await copyBundle((m) => {
        m.tokenizer.functionWords = bad;
      });
      const err = await expectCode(Segmenter.open(dir, { threads: 1 }), 'ERR_BUNDLE_INVALID');
      expect(err.message).toMatch(/tokenizer\.functionWords/);
    }
  });

  it('agrees with the Python evaluation (tokenizer.not_found_reason) on which goals have a content word, with and without inflections', async () => {
    // the function words export writes: the generator's, within this bundle's vocabulary
    const fn = JSON.parse(python(['-c', 'import json; from anchorseg.synth import function_words; print(json.dumps(function_words()))'])) as string[];
    const goals = [
      ...UNKNOWN_GOALS.slice(0, 5),
      'please find the thing for me',
      'show me where it is, the robot needs it',
      'the crimson mug',
      "which pen isn't orange?",
      'find the red cup',
      'the thing i can eat',
      'zebra cup',
      'is there a banana?',
      'fnid teh thing',
      'finding the things',
      'for writing',
    ];
    const script = [
      'import json, sys',
      'from pathlib import Path',
      'from anchorseg.evaluate import BundleRunner',
      'bundle, goals = json.load(sys.stdin)',
      'runner = BundleRunner(Path(bundle), threads=1)',
      'print(json.dumps([runner.has_content(g) for g in goals]))',
    ].join('\n');
    const expected = [false, false, false, false, false, false, true, true, true, true, true, true, true, false, false];
    for (const inflections of [false, true]) {
      const dir = await copyBundle((m) => {
        m.tokenizer.functionWords = fn;
        m.tokenizer.inflections = inflections;
      });
      const py = JSON.parse(python(['-c', script], JSON.stringify([dir, goals]))) as boolean[];
      const other = await Segmenter.open(dir, { threads: 1 });
      try {
        const ts = [];
        for (const g of goals) ts.push((await other.segment(frames[0], g)).notFoundReason !== 'no-content-word');
        expect(ts).toEqual(py);
        // 'needs', 'crimson' and 'mug' are content words of the v2 vocabulary; 'fnid teh' are typos;
        // 'finding' inflects a function word, 'writing' a content word ('write')
        expect(py).toEqual([...expected, inflections]);
      } finally {
        await other.close();
      }
    }
  });

  it('refuses a tokenizer.inflections that is not true or false, naming it', async () => {
    const dir = await copyBundle((m) => {
      m.tokenizer.inflections = 'yes';
    });
    const err = await expectCode(Segmenter.open(dir, { threads: 1 }), 'ERR_BUNDLE_INVALID');
    expect(err.message).toMatch(/Expected true or false for tokenizer\.inflections .*received "yes"/);
  });
});
