/** Bundle verification: every ERR_BUNDLE_* code, on copies of the real bundle with one thing broken each. */
import { appendFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkEngineIO, loadBundle } from '../sdk/model/bundle.js';
import { Segmenter } from '../sdk/segmenter.js';
import { BUNDLE, BUNDLE_GEOMETRY, copyBundle, expectCode, removeTemps, tempDir } from './fixtures/sdk-helpers.js';

afterAll(removeTemps);

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const { width: W, height: H, grid: GRID } = BUNDLE_GEOMETRY;

describe('loadBundle', () => {
  it('verifies the embedded bundle: manifest, hashes, vocabulary, wiring', async () => {
    const b = await loadBundle(BUNDLE);
    expect(b.manifest.formatVersion).toBe(1);
    expect(b.vocab.length).toBeGreaterThan(2);
    expect(b.vocab[b.manifest.tokenizer.padId]).toBeDefined();
    expect(Object.keys(b.engines).sort()).toEqual(['decoder', 'reasoner', 'vision']);
    for (const file of Object.values(b.engines)) expect(path.isAbsolute(file)).toBe(true);
  });

  const cases: [string, string, RegExp, (m: any, dir: string) => void | Promise<void>][] = [
    ['format version 2', 'ERR_BUNDLE_VERSION', /formatVersion 1 .* received 2/, (m) => (m.formatVersion = 2)],
    ['format name', 'ERR_BUNDLE_INVALID', /"anchorseg-bundle" for format .*anchorseg\.json/, (m) => (m.format = 'other')],
    ['a non-integer grid', 'ERR_BUNDLE_INVALID', /integer >= 1 for model\.grid in .*anchorseg\.json but received "8"/, (m) => (m.model.grid = '8')],
    ['an unsupported tokenizer', 'ERR_BUNDLE_INVALID', /one of word, sentencepiece for tokenizer\.type .* received "bpe"/, (m) => (m.tokenizer.type = 'bpe')],
    ['an unsupported resize', 'ERR_BUNDLE_INVALID', /images\[0\]\.resize/, (m) => (m.images[0].resize = 'nearest')],
    ['an unknown letterbox', 'ERR_BUNDLE_INVALID', /one of bottom-right, none for images\[0\]\.letterbox .* received "stretch"/, (m) => (m.images[0].letterbox = 'stretch')],
    ['a bad sha256 field', 'ERR_BUNDLE_INVALID', /sha256 of 64 hex digits for engines\.vision\.sha256/, (m) => (m.engines.vision.sha256 = 'abc')],
    ['an engine file escaping the folder', 'ERR_BUNDLE_PATH', /engines\.vision\.file .*"\.\.\/vision\.onnx"/, (m) => (m.engines.vision.file = '../vision.onnx')],
    ['an absolute file path', 'ERR_BUNDLE_PATH', /files\[1\]\.path .*"\/etc\/hostname"/, (m) => m.files.push({ path: '/etc/hostname', sha256: '0'.repeat(64) })],
    ['a missing vocabulary file', 'ERR_BUNDLE_FILE_MISSING', /vocab\.txt .*missing \(ENOENT\)/, async (_m, dir) => rm(path.join(dir, 'vocab.txt'))],
    ['a vocabulary not listed in files', 'ERR_BUNDLE_INVALID', /tokenizer\.vocab "vocab\.txt" to be listed in files/, (m) => (m.files = [])],
    ['a changed engine file', 'ERR_BUNDLE_HASH', /sha256 [0-9a-f]{64} for .*vision\.onnx .* hashes to [0-9a-f]{64}/, async (_m, dir) => appendFile(path.join(dir, 'vision.onnx'), 'x')],
    ['a changed vocabulary', 'ERR_BUNDLE_HASH', /vocab\.txt/, async (_m, dir) => appendFile(path.join(dir, 'vocab.txt'), 'extra\n')],
    ['an input nothing provides', 'ERR_BUNDLE_INVALID', /input "query_bank2" of engines\.decoder \(decoder\.onnx\) .* nothing provides it/, (m) => (m.engines.decoder.inputs[2].name = 'query_bank2')],
    [
      'a vision engine that reads the goal',
      'ERR_BUNDLE_INVALID',
      /input "goal_ids" of engines\.vision \(vision\.onnx\) .* nothing provides it/,
      (m) => m.engines.vision.inputs.push({ name: 'goal_ids', dtype: 'int64', shape: [1, 40] }),
    ],
    ['a wiring dtype clash', 'ERR_BUNDLE_INVALID', /"image_tokens" of engines\.reasoner .* dtype float32 .* declares float16/, (m) => (m.engines.reasoner.inputs[0].dtype = 'float16')],
    ['no mask_logits output', 'ERR_BUNDLE_INVALID', /output named "mask_logits"/, (m) => (m.engines.decoder.outputs[1].name = 'logits')],
    [
      'pixels shape vs image size',
      'ERR_BUNDLE_INVALID',
      new RegExp(`shape \\[1,3,${H},${W}\\] for input "pixels" .* declares \\[1,3,64,64\\]`),
      (m) => (m.engines.vision.inputs[0].shape = [1, 3, 64, 64]),
    ],
    ['padId outside the vocabulary', 'ERR_BUNDLE_INVALID', /tokenizer\.padId < \d+/, (m) => (m.tokenizer.padId = 100000)],
  ];

  it.each(cases)('refuses %s with %s', async (_name, code, message, edit) => {
    const err = await expectCode(loadBundle(await copyBundle(edit)), code);
    expect(err.message).toMatch(message);
  });

  it('refuses a folder without a manifest, and a manifest that is not JSON', async () => {
    const empty = await tempDir();
    expect((await expectCode(loadBundle(empty), 'ERR_BUNDLE_NOT_FOUND')).message).toContain(path.join(empty, 'anchorseg.json'));
    await writeFile(path.join(empty, 'anchorseg.json'), '{ not json');
    expect((await expectCode(loadBundle(empty), 'ERR_BUNDLE_INVALID')).message).toMatch(/Expected JSON in .*anchorseg\.json/);
    await expectCode(loadBundle(''), 'ERR_INVALID_ARG');
  });

  it('refuses a symlink that leads out of the bundle folder', async () => {
    const outside = path.join(await tempDir(), 'vocab.txt');
    const dir = await copyBundle(async (_m, d) => {
      await writeFile(outside, readFileSync(path.join(d, 'vocab.txt')));
      await rm(path.join(d, 'vocab.txt'));
      await symlink(outside, path.join(d, 'vocab.txt'));
    });
    expect((await expectCode(loadBundle(dir), 'ERR_BUNDLE_PATH')).message).toMatch(/links to .*vocab\.txt/);
  });

  it('refuses a listed path that is a folder', async () => {
    const dir = await copyBundle(async (m, d) => {
      await mkdir(path.join(d, 'sub'));
      m.files.push({ path: 'sub', sha256: '0'.repeat(64) });
    });
    expect((await expectCode(loadBundle(dir), 'ERR_BUNDLE_INVALID')).message).toMatch(/Expected a regular file for files\[1\]\.path in .*anchorseg\.json but .*sub is a directory/);
  });
});

describe('engine I/O against the loaded session', () => {
  it('refuses a manifest whose declared shape differs from the ONNX model', async () => {
    const dir = await copyBundle((m) => {
      m.engines.decoder.outputs[0].shape = [1, 4, 4];
      m.model.grid = 4; // consistent with the declared token_map, so the model is what differs
    });
    const err = await expectCode(Segmenter.open(dir), 'ERR_BUNDLE_MISMATCH');
    expect(err.message).toMatch(new RegExp(`Engine decoder \\(.*decoder\\.onnx\\): expected shape \\[1,4,4\\] for output "token_map" but the model has \\[1,${GRID},${GRID}\\]`));
  });

  it('refuses a manifest whose names differ from the ONNX model', async () => {
    const dir = await copyBundle((m) => {
      m.engines.decoder.outputs[2].name = 'confidence';
      m.engines.decoder.outputs.push({ name: 'score', dtype: 'float32', shape: [1] });
    });
    expect((await expectCode(Segmenter.open(dir), 'ERR_BUNDLE_MISMATCH')).message).toMatch(
      /expected outputs \[confidence, mask_logits, score, token_map\] .* model has \[mask_logits, score, token_map\]/,
    );
  });

  it('refuses an engine file that hashes right but is not an ONNX model', async () => {
    const dir = await copyBundle(async (m, d) => {
      await writeFile(path.join(d, 'reasoner.onnx'), 'not a model');
      m.engines.reasoner.sha256 = sha256(path.join(d, 'reasoner.onnx'));
    });
    expect((await expectCode(Segmenter.open(dir), 'ERR_BUNDLE_INVALID')).message).toMatch(/reasoner\.onnx to load as an ONNX model/);
  });

  const decl = { inputs: [{ name: 'goal_ids', dtype: 'int64' as const, shape: [1, 'T'] }], outputs: [{ name: 'y', dtype: 'float32' as const, shape: [1, 40] }] };
  const check = (inputs: unknown[], outputs: unknown[]) => () =>
    checkEngineIO('reasoner', { file: 'r.onnx', sha256: '', ...decl }, '/b/r.onnx', { inputs: inputs as never, outputs: outputs as never });

  it('accepts a dynamic model dim where the manifest fixes one, and the same dynamic dim', () => {
    expect(check([{ name: 'goal_ids', dtype: 'int64', shape: [1, 'seq'] }], [{ name: 'y', dtype: 'float32', shape: [1, 'n'] }])).not.toThrow();
  });

  it.each([
    [
      'a fixed model dim where the manifest says dynamic',
      [{ name: 'goal_ids', dtype: 'int64', shape: [1, 40] }],
      [{ name: 'y', dtype: 'float32', shape: [1, 40] }],
      /shape \[1,"T"\] for input "goal_ids" but the model has \[1,40\]/,
    ],
    ['another rank', [{ name: 'goal_ids', dtype: 'int64', shape: [1, 'T', 1] }], [{ name: 'y', dtype: 'float32', shape: [1, 40] }], /shape \[1,"T"\]/],
    ['another dtype', [{ name: 'goal_ids', dtype: 'int32', shape: [1, 'T'] }], [{ name: 'y', dtype: 'float32', shape: [1, 40] }], /dtype int64 for input "goal_ids" but the model has int32/],
    ['another fixed dim', [{ name: 'goal_ids', dtype: 'int64', shape: [1, 'T'] }], [{ name: 'y', dtype: 'float32', shape: [1, 41] }], /shape \[1,40\] for output "y" but the model has \[1,41\]/],
    ['a missing output', [{ name: 'goal_ids', dtype: 'int64', shape: [1, 'T'] }], [], /expected outputs \[y\]/],
  ])('refuses %s', (_n, inputs, outputs, message) => {
    expect(check(inputs, outputs)).toThrow(message);
    try {
      check(inputs, outputs)();
    } catch (err) {
      expect((err as { code: string }).code).toBe('ERR_BUNDLE_MISMATCH');
      expect((err as Error).message).toContain('/b/r.onnx');
    }
  });
});
