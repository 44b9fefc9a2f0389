/**
 * Extreme but finite manifest values (issue 15, item 4): they used to be accepted and gave NaN
 * scores (an image std of 1e-40, a mean of 1e300) or results that could never be right. Now each is refused at
 * open with ERR_BUNDLE_INVALID naming the field, by range (MANIFEST_RANGES) and against the
 * engines' declared shapes. docs/robustness.md and docs/bundle-format.md list them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadImage } from '../sdk/base/image.js';
import { defaultDataDir } from '../sdk/evaluate.js';
import { readReasonSeg } from '../sdk/data/reasonseg.js';
import { loadBundle } from '../sdk/model/bundle.js';
import { MANIFEST_RANGES } from '../sdk/model/manifest.js';
import { Segmenter } from '../sdk/segmenter.js';
import { BUNDLE_GEOMETRY, copyBundle, expectCode, removeTemps } from './fixtures/sdk-helpers.js';

const GRID = BUNDLE_GEOMETRY.grid;

afterAll(removeTemps);

type Edit = (m: any) => void;

describe('manifest values out of range', () => {
  const cases: [string, RegExp, Edit][] = [
    ['a huge image mean', /finite number between 0 and 1 for images\[0\]\.mean\[0\] in .*anchorseg\.json but received 1e\+300/, (m) => (m.images[0].mean[0] = 1e300)],
    ['a negative image mean', /images\[0\]\.mean\[2\] .* received -5/, (m) => (m.images[0].mean[2] = -5)],
    ['a tiny image std', /finite number between 0\.001 and 1000 for images\[0\]\.std\[1\] .* received 1e-40/, (m) => (m.images[0].std[1] = 1e-40)],
    ['a huge image std', /images\[0\]\.std\[0\] .* received 1e\+30/, (m) => (m.images[0].std[0] = 1e30)],
    ['an image wider than a frame side', /integer between 1 and 16384 for images\[0\]\.width .* received 1000000/, (m) => (m.images[0].width = 1e6)],
    ['a score threshold above 1', /finite number between 0 and 1 for score\.threshold .* received 5/, (m) => (m.score.threshold = 5)],
    ['a huge mask threshold', /mask\.threshold .* received 1e\+300/, (m) => (m.mask.threshold = 1e300)],
    ['a huge grid', /integer between 1 and 4096 for model\.grid .* received 1000000000/, (m) => (m.model.grid = 1e9)],
    ['a huge latentTokens', /model\.latentTokens .* received 100000/, (m) => (m.model.latentTokens = 1e5)],
    ['a huge maxTokens', /integer between 1 and 65536 for tokenizer\.maxTokens .* received 1000000000000/, (m) => (m.tokenizer.maxTokens = 1e12)],
    ['a huge maxChars', /tokenizer\.maxChars .* received 1000000000000/, (m) => (m.tokenizer.maxChars = 1e12)],
  ];
  it.each(cases)('refuses %s, naming the field', async (_name, message, edit) => {
    expect((await expectCode(loadBundle(await copyBundle(edit)), 'ERR_BUNDLE_INVALID')).message).toMatch(message);
  });
});

describe("manifest values against the engines' declared shapes", () => {
  const cases: [string, RegExp, Edit][] = [
    [
      'a grid other than the token map',
      new RegExp(`Expected model\\.grid in .*anchorseg\\.json to match the last two dims of output "token_map" of engines\\.decoder \\(declared \\[1,${GRID},${GRID}\\], so ${GRID}\\) but received 4`),
      (m) => (m.model.grid = 4),
    ],
    ['latentTokens other than the query bank rows - 1', /model\.latentTokens .* "query_bank" of engines\.reasoner \(declared \[1,8,96\], so 7\) but received 3/, (m) => (m.model.latentTokens = 3)],
    ['a dim other than the query bank width', /model\.dim .* last dim of output "query_bank" .* so 96\) but received 95/, (m) => (m.model.dim = 95)],
    [
      'mask logits larger than a frame side',
      /sides between 1 and 16384 in engines\.decoder\.outputs\[1\]\.shape \("mask_logits"\) .* received \[1,1,64,100000\]/,
      (m) => (m.engines.decoder.outputs[1].shape = [1, 1, 64, 100000]),
    ],
  ];
  it.each(cases)('refuses %s, naming the field', async (_name, message, edit) => {
    expect((await expectCode(loadBundle(await copyBundle(edit)), 'ERR_BUNDLE_INVALID')).message).toMatch(message);
  });

  it('accepts the embedded bundle and the ends of every range; at the extreme normalisation the score is finite', async () => {
    expect(MANIFEST_RANGES.std[0]).toBe(0.001);
    const dir = await copyBundle((m) => {
      m.images[0].mean = [1, 1, 0];
      m.images[0].std = [0.001, 1000, 0.001];
      m.score.threshold = 1;
      m.mask.threshold = -1000;
      m.tokenizer.maxChars = 65536;
    });
    const seg = await Segmenter.open(dir, { threads: 1 });
    try {
      const [sample] = await readReasonSeg(defaultDataDir());
      const r = await seg.segment(await loadImage(sample.image), sample.texts[0]);
      expect(Number.isFinite(r.score)).toBe(true);
    } finally {
      await seg.close();
    }
  });
});
