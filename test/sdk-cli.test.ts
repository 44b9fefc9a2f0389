/** The `anchorseg` CLI as a user runs it (compiled dist/, real bundle, real files): outputs, exit codes, one-line errors. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDataDir } from '../sdk/evaluate.js';
import { rleDecode } from '../sdk/kernels/index.js';
import { readReasonSeg } from '../sdk/data/reasonseg.js';
import { loadBundle, type Bundle } from '../sdk/model/bundle.js';
import { Tokenizer, vocabularyWords } from '../sdk/model/tokenizer.js';
import { BENCH, BUNDLE, CLI, PYTHON, ROOT, removeTemps, tempDir } from './fixtures/sdk-helpers.js';

afterAll(removeTemps);

const exec = promisify(execFile);
/** The CLI runs in an empty folder, so anything it writes where it should not shows up. */
let cwd: string;
beforeAll(async () => {
  cwd = await tempDir();
});

async function node(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [script, ...args], { cwd, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const cli = (...args: string[]) => node(CLI, args);
const bench = (...args: string[]) => node(BENCH, args);

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

/** A user error: non-zero exit, exactly one line on stderr naming the code, no stack trace. */
function expectUserError(r: { code: number; stderr: string }, code: string): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('anchorseg CLI', () => {
  it('segment writes a mask PNG, an overlay PNG and a JSON per image', async () => {
    const [a, b] = await readReasonSeg(defaultDataDir());
    const out = await tempDir();
    const r = await cli('segment', a.image, b.image, '--goal', a.texts[0], '--out', out, '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    const json = JSON.parse(await readFile(path.join(out, `${a.id}.json`), 'utf8'));
    expect(json.goal.text).toBe(a.texts[0]);
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['score', 'found', 'bbox', 'area', 'anchor', 'tokenMap', 'timings', 'rle', 'width', 'height']));
    expect((await sharp(path.join(out, `${a.id}.mask.png`)).metadata()).channels).toBe(1);
    const mask = await sharp(path.join(out, `${a.id}.mask.png`))
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([mask.info.width, mask.info.height, mask.info.channels]).toEqual([json.width, json.height, 1]);
    expect(Buffer.from(rleDecode(json.rle)).equals(mask.data)).toBe(true);
    expect(mask.data.reduce((n, v) => n + (v ? 1 : 0), 0)).toBe(json.area);
    const overlay = await sharp(path.join(out, `${b.id}.overlay.png`)).metadata();
    expect([overlay.width, overlay.channels]).toEqual([json.width, 3]);
  });

  it('eval --json ends with one JSON object: gIoU, cIoU, n, short, long', async () => {
    const r = await cli('eval', '--json', '--limit', '6', '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(Object.keys(j).sort()).toEqual(['cIoU', 'gIoU', 'long', 'n', 'short']);
    expect(j.n).toBe(6);
    expect(j.short.n + j.long.n).toBe(6);
  });

  it('eval prints the same numbers as the Python evaluation of the bundle', async () => {
    const r = await cli('eval', '--json', '--limit', '12', '--bundle', BUNDLE);
    const py = await exec(PYTHON, ['-m', 'anchorseg.evaluate', '--bundle', BUNDLE, '--limit', '12', '--json'], { cwd: path.join(ROOT, 'models') });
    const ts = lastJson(r.stdout);
    const p = lastJson(py.stdout);
    for (const k of ['gIoU', 'cIoU'] as const) {
      expect(ts[k]).toBeCloseTo(p[k], 3);
      expect(ts.short[k]).toBeCloseTo(p.short[k], 3);
    }
  });

  it('bench model --json reports stages, overheadRatio and eventLoopLagP99Ms', async () => {
    const r = await bench('model', '--json', '-n', '8', '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(Object.keys(j.stages).sort()).toEqual(['decoder', 'postprocess', 'preprocess', 'reasoner', 'vision']);
    expect(j.iterations).toBe(8);
    expect(j.overheadRatio).toBeCloseTo(j.segmentMs / j.rawEnginesMs, 9);
    expect(j.eventLoopLagP99Ms).toBeGreaterThan(0);
  });

  it('info --json describes the verified bundle, backends and versions', async () => {
    const r = await cli('info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = lastJson(r.stdout);
    expect(j.bundle.model).toMatch(/^anchorseg-tiny /);
    expect(j.backends.find((b: { name: string }) => b.name === 'onnx').available).toBe(true);
    expect(j.versions.node).toBe(process.version);
  });

  it("info --vocab lists the tokenizer's words, one per line (every one read as known), or as JSON", async () => {
    const r = await cli('info', '--vocab', '--bundle', BUNDLE);
    expect(r.code, r.stderr).toBe(0);
    const words = r.stdout.trimEnd().split('\n');
    const file = (await readFile(path.join(BUNDLE, 'vocab.txt'), 'utf8')).trimEnd().split('\n');
    expect(words).toEqual(file.filter((w) => w !== '[PAD]' && w !== '[UNK]'));
    expect(words).toContain('candle');
    const tokenizer = Tokenizer.forBundle(await loadBundle(BUNDLE));
    for (const w of words) expect(tokenizer.tokenize(`the ${w}`).unknown, w).toEqual([]);
    expect(tokenizer.tokenize('the zebra').unknown).toEqual(['zebra']);
    expect(words).not.toContain('zebra');
    expect(lastJson((await cli('info', '--vocab', '--json', '--bundle', BUNDLE)).stdout)).toEqual(words);
  });

  it('a SentencePiece vocabulary lists its whole-word pieces, the word-start mark removed', () => {
    const vocab = ['<unk>', '<s>', '</s>', '<0x0A>', '\u2581the', '\u2581cup', 's', '\u2581', '\u2581the', '[SEG]'];
    const manifest = { tokenizer: { type: 'sentencepiece' } } as Bundle['manifest'];
    expect(vocabularyWords({ manifest, vocab })).toEqual(['the', 'cup']);
  });

  it.each([
    ['an empty goal', ['segment', 'x.jpg', '--goal', ' '], 'ERR_GOAL_EMPTY'],
    ['a missing image', ['segment', 'does-not-exist.png', '--goal', 'cup'], 'ERR_FRAME_INVALID'],
    ['a missing bundle', ['info', '--bundle', 'no/such/bundle'], 'ERR_BUNDLE_NOT_FOUND'],
    ['a missing data folder', ['eval', '--data', 'no/such/folder'], 'ERR_DATA_INVALID'],
    ['an unknown backend', ['eval', '--backend', 'tpu'], 'ERR_BACKEND_UNAVAILABLE'],
  ])('%s: exit 1, one line naming the code, nothing written', async (_n, args, code) => {
    expectUserError(await cli(...args), code);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('usage errors exit non-zero without a stack trace', async () => {
    for (const r of [await cli('segment', 'x.png'), await bench('model', '--threads', 'zero'), await cli('frobnicate')]) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/error:/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
