/**
 * Corrupt and blocking bundle files through the CLI as a user runs it: a truncated engine (caught
 * by its hash, or, with the hash updated, by onnxruntime), random bytes as an engine, a manifest cut
 * short, and FIFOs where the manifest, an engine or the vocabulary should be (a reader would block
 * forever). Each gets one coded line on stderr and exit 1, never a hang. The SDK side, with
 * directories, sockets, symlinks and size limits: test/sdk-bundle-files.test.ts,
 * test/sdk-bundle-verify.test.ts.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyBundle, removeTemps, tempDir } from '../fixtures/sdk-helpers.js';
import { Cli, CRASH } from './harness.js';

afterAll(removeTemps);

const IMAGE = path.join('models', 'data', 'reasonseg-synth', 'sequences', 'seq00', '0000.jpg');

/** Replaces a file of a bundle copy by a FIFO nobody writes to. */
async function fifo(dir: string, file: string): Promise<void> {
  await rm(path.join(dir, file));
  execFileSync('mkfifo', [path.join(dir, file)]);
}

/** Truncates an engine and, with `rehash`, records the short file's hash so that only onnxruntime can tell. */
function truncated(engine: string, rehash: boolean) {
  return async (manifest: any, dir: string) => {
    const file = path.join(dir, manifest.engines[engine].file);
    await truncate(file, 100_000);
    if (rehash)
      manifest.engines[engine].sha256 = createHash('sha256')
        .update(await readFile(file))
        .digest('hex');
  };
}

const CASES: { name: string; code: string; says: RegExp; make: () => Promise<string> }[] = [
  { name: 'a truncated engine', code: 'ERR_BUNDLE_HASH', says: /Expected sha256 \w+ for .*decoder\.onnx .* but the file hashes to \w+/, make: () => copyBundle(truncated('decoder', false)) },
  {
    name: 'a truncated engine whose hash was updated',
    code: 'ERR_BUNDLE_INVALID',
    says: /Expected .*reasoner\.onnx to load as an ONNX model but onnxruntime refused it/,
    make: () => copyBundle(truncated('reasoner', true)),
  },
  {
    name: 'random bytes as an engine',
    code: 'ERR_BUNDLE_INVALID',
    says: /Expected .*vision\.onnx to load as an ONNX model/,
    make: () =>
      copyBundle(async (manifest, dir) => {
        const bytes = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 2654435761) >>> 24));
        await writeFile(path.join(dir, 'vision.onnx'), bytes);
        manifest.engines.vision.sha256 = createHash('sha256').update(bytes).digest('hex');
      }),
  },
  {
    name: 'a manifest cut short',
    code: 'ERR_BUNDLE_INVALID',
    says: /Expected JSON in .*anchorseg\.json but it does not parse/,
    make: async () => {
      const dir = await copyBundle();
      await truncate(path.join(dir, 'anchorseg.json'), 1000);
      return dir;
    },
  },
  {
    name: 'a FIFO as the manifest',
    code: 'ERR_BUNDLE_INVALID',
    says: /anchorseg\.json.* is a FIFO/,
    make: async () => {
      const dir = await copyBundle();
      await fifo(dir, 'anchorseg.json');
      return dir;
    },
  },
  {
    name: 'a FIFO as an engine',
    code: 'ERR_BUNDLE_INVALID',
    says: /Expected a regular file for engines\.reasoner\.file .* but .*reasoner\.onnx is a FIFO/,
    make: () => copyBundle((_, dir) => fifo(dir, 'reasoner.onnx')),
  },
  { name: 'a FIFO as the vocabulary', code: 'ERR_BUNDLE_INVALID', says: /vocab\.txt is a FIFO/, make: () => copyBundle((_, dir) => fifo(dir, 'vocab.txt')) },
];

/** One coded line, exit 1, no crash; the process ended (Cli.exit() fails a hang). */
async function expectRefused(args: string[], code: string, says: RegExp): Promise<void> {
  const cli = new Cli(args, { cwd: await tempDir() });
  const exit = await cli.exit();
  expect(exit.status, cli.stderr).toBe(1);
  expect(cli.stderr).not.toMatch(CRASH);
  expect(cli.stderr.trim().split('\n'), cli.stderr).toHaveLength(1);
  expect(cli.stderr).toMatch(says);
  expect(cli.stderr.trim().endsWith(`[${code}]`), cli.stderr).toBe(true);
}

describe('anchorseg segment --bundle <corrupt>', () => {
  for (const c of CASES) {
    it(`${c.name}: ${c.code}, exit 1, no hang`, async () => {
      await expectRefused(['segment', path.resolve(IMAGE), '--goal', 'the yellow pen', '--bundle', await c.make()], c.code, c.says);
    });
  }
});

describe('the long-running commands refuse one too, before they serve', () => {
  it('serve and demo with a FIFO as an engine: ERR_BUNDLE_INVALID, exit 1, no hang', async () => {
    const bundle = await copyBundle((_, dir) => fifo(dir, 'decoder.onnx'));
    const says = /decoder\.onnx is a FIFO/;
    const any = 'tcp://127.0.0.1:*';
    await expectRefused(['serve', '--bundle', bundle, '--control-endpoint', any, '--results-endpoint', any, '--frames-endpoint', any], 'ERR_BUNDLE_INVALID', says);
    await expectRefused(['demo', '--bundle', bundle, '--frames', '2', '--out', await tempDir()], 'ERR_BUNDLE_INVALID', says);
  });
});
