/**
 * Bundle files that are not regular files, or too large, or slow to read (issue 15, item 3): a
 * manifest that is a FIFO used to hang open() for ever (its signal ignored, the process unable to
 * exit). Only regular files are read, reads are bounded, the signal is honoured between chunks.
 * docs/robustness.md lists these.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, rename, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle, MAX_MANIFEST_BYTES } from '../sdk/model/bundle.js';
import { Segmenter } from '../sdk/segmenter.js';
import { ROOT, copyBundle, expectCode, removeTemps } from './fixtures/sdk-helpers.js';

afterAll(removeTemps);

const mkfifo = (file: string) => execFileSync('mkfifo', [file]);

/** A copy of the bundle with `name` replaced by a FIFO. */
async function withFifo(name: string): Promise<string> {
  return copyBundle(async (_m, dir) => {
    await rm(path.join(dir, name));
    mkfifo(path.join(dir, name));
  });
}

describe('bundle files that are not regular files', () => {
  it('a manifest that is a FIFO: open() refuses it at once with ERR_BUNDLE_INVALID, and the process can exit', async () => {
    const dir = await copyBundle();
    await rm(path.join(dir, 'anchorseg.json'));
    mkfifo(path.join(dir, 'anchorseg.json'));
    // In a child process: before the fix the open blocked a libuv thread for ever (no writer ever comes).
    const script = [
      `const { Segmenter } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', 'sdk', 'index.js')).href)});`,
      `try { await Segmenter.open(${JSON.stringify(dir)}); console.log('opened'); }`,
      'catch (err) { console.log(JSON.stringify({ code: err.code, message: err.message })); }',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, signal: r.signal }, r.stderr).toEqual({ status: 0, signal: null });
    const err = JSON.parse(r.stdout) as { code: string; message: string };
    expect(err.code).toBe('ERR_BUNDLE_INVALID');
    expect(err.message).toContain(path.join(dir, 'anchorseg.json'));
    expect(err.message).toMatch(/Expected a regular file for the bundle manifest but .* is a FIFO/);
  });

  it.each([
    ['the vocabulary', 'vocab.txt', /Expected a regular file for files\[0\]\.path in .*anchorseg\.json but .*vocab\.txt is a FIFO/],
    ['an engine', 'vision.onnx', /Expected a regular file for engines\.vision\.file in .*anchorseg\.json but .*vision\.onnx is a FIFO/],
  ])('%s as a FIFO: ERR_BUNDLE_INVALID naming the file and what it is', async (_name, file, message) => {
    const err = await expectCode(Segmenter.open(await withFifo(file)), 'ERR_BUNDLE_INVALID');
    expect(err.message).toMatch(message);
  });

  it('a manifest that is a folder: ERR_BUNDLE_INVALID saying so (not "not found")', async () => {
    const dir = await copyBundle();
    await rename(path.join(dir, 'anchorseg.json'), path.join(dir, 'manifest.json'));
    await mkdir(path.join(dir, 'anchorseg.json'));
    expect((await expectCode(loadBundle(dir), 'ERR_BUNDLE_INVALID')).message).toMatch(/anchorseg\.json is a directory/);
  });

  it('a symlink to a FIFO outside the folder is refused as leaving the folder, without opening it', async () => {
    const dir = await copyBundle();
    const outside = path.join(path.dirname(dir), 'pipe');
    mkfifo(outside);
    await rm(path.join(dir, 'vocab.txt'));
    execFileSync('ln', ['-s', outside, path.join(dir, 'vocab.txt')]);
    await expectCode(loadBundle(dir), 'ERR_BUNDLE_PATH');
  });
});

describe('bounded reads and the signal', () => {
  it(`a manifest over ${MAX_MANIFEST_BYTES} bytes: ERR_BUNDLE_INVALID with the limit and the size`, async () => {
    const dir = await copyBundle((m) => {
      m.provenance = { note: 'x'.repeat(MAX_MANIFEST_BYTES) };
    });
    expect((await expectCode(loadBundle(dir), 'ERR_BUNDLE_INVALID')).message).toMatch(new RegExp(`at most ${MAX_MANIFEST_BYTES} bytes for the bundle manifest but .*anchorseg\\.json holds \\d+`));
  });

  it('an abort while a large engine file is hashed: ERR_ABORTED, the rest of the file is not read', async () => {
    // 1 GiB, sparse (no disk used); hashing all of it takes seconds, an abort is seen within a 1 MiB chunk.
    const dir = await copyBundle(async (_m, d) => {
      await writeFile(path.join(d, 'vision.onnx'), '');
      await truncate(path.join(d, 'vision.onnx'), 1 << 30);
    });
    const controller = new AbortController();
    const loading = loadBundle(dir, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 20);
    // Without the abort this is ERR_BUNDLE_HASH (the sha256 in the manifest is the real engine's).
    await expectCode(loading, 'ERR_ABORTED');
  });
});
