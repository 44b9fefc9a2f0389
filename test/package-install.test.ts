/**
 * The npm package as a user gets it: `npm pack` -> what the tarball holds (the runtime, the model,
 * the demo sequences, the native sources; no tests, benchmarks, training code or data splits; under
 * a size bound) -> installed into a fresh project the way the README says (its `.npmrc` line; no
 * ONNXRUNTIME_NODE_INSTALL, no api.nuget.org; from the npm cache where it can) -> the README's
 * JavaScript block run as written by this Node, the CLI's demo, its refusal of the repository-only
 * test split, and build-engine --check's frames without that split.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, removeTemps, tempDir } from './fixtures/sdk-helpers.js';

afterAll(removeTemps);

const exec = promisify(execFile);
/** Packing and a consumer install that compiles the native addon: about a minute here, more on a cold npm cache. */
const SETUP_MS = 600_000;
/** The packed size today is about 8.9 MB (the model 4.1 MB, the demo sequences 5.5 MB before gzip). */
const MAX_TARBALL_BYTES = 12_000_000;
const MAX_FILES = 1000;
/** A ReasonSeg-Synth test image where the README's goal is found, on its cup (score 0.69 with bundles 0.4.7 and 0.4.8, threshold 0.1). */
const IMAGE = path.join(ROOT, 'models', 'data', 'reasonseg-synth', 'test', '00050.jpg');
const CONSUMER_NPMRC = 'onnxruntime-node-install=skip';

/**
 * The environment of a user's shell: none of the npm_* variables `npm test` sets, and no
 * ONNXRUNTIME_NODE_INSTALL (scripts/test.sh and .ci/run export it), so the `.npmrc` line is what
 * keeps onnxruntime-node from api.nuget.org. No ROS 2 either (`npm test` sources .ros/env.sh):
 * with one, the optional rclnodejs would compile against it for minutes. The npm cache and
 * registry stay as configured.
 */
function userEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry']);
  const drop = /^(npm_|ONNXRUNTIME_NODE_INSTALL|ROS_|_ROS_|AMENT_|RMW_|FASTRTPS_|FASTDDS_|COLCON_|ANCHORSEG_ROS)/i;
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => keep.has(k) || !drop.test(k)));
}

async function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const start = performance.now();
  try {
    const { stdout, stderr } = await exec(cmd, args, { cwd, env: userEnv(), maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr, ms: performance.now() - start };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    // a command that did not start (no npm on PATH) has no exit status: the error says why
    return typeof e.code === 'number'
      ? { code: e.code, stdout: e.stdout, stderr: e.stderr, ms: performance.now() - start }
      : { code: -1, stdout: '', stderr: String(err), ms: performance.now() - start };
  }
}

/** The README's JavaScript example: the one ```js block importing from 'anchorseg'. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]).filter((b) => b.includes("from 'anchorseg'"));
  expect(blocks, 'README.md: exactly one ```js block importing anchorseg').toHaveLength(1);
  return blocks[0];
}

let files: string[];
let tarball: { size: number; entryCount: number; filename: string };
let consumer: string;
let install: Awaited<ReturnType<typeof run>>;

beforeAll(async () => {
  // --ignore-scripts: no `prepare` (tsc) rewriting dist/ under the suites running beside this one;
  // the global setup has just built it.
  const packDir = await tempDir('anchorseg-pack-');
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], ROOT);
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ size: number; entryCount: number; filename: string; files: { path: string }[] }];
  tarball = info;
  files = info.files.map((f) => f.path);

  consumer = await tempDir('anchorseg-consumer-');
  await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'anchorseg-consumer', version: '1.0.0', private: true }, null, 2));
  await writeFile(path.join(consumer, '.npmrc'), `${CONSUMER_NPMRC}\n`);
  install = await run('npm', ['install', path.join(packDir, info.filename), '--prefer-offline', '--no-audit', '--no-fund'], consumer);
  console.log(`package-install: npm pack ${(pack.ms / 1000).toFixed(1)} s (${info.entryCount} files, ${(info.size / 1e6).toFixed(2)} MB); consumer npm install ${(install.ms / 1000).toFixed(1)} s`);
}, SETUP_MS);

describe('the packed tarball', () => {
  it(`stays under ${MAX_TARBALL_BYTES / 1e6} MB and ${MAX_FILES} files`, () => {
    expect(tarball.size).toBeLessThan(MAX_TARBALL_BYTES);
    expect(tarball.entryCount).toBeLessThan(MAX_FILES);
  });

  it('holds no tests, benchmarks, examples, training code, data splits, source maps or build output', () => {
    const forbidden = [
      /^(test|bench|examples|scripts|\.ci|build)\//,
      /^dist\/(bench|examples|test)\//,
      /^models\/(anchorseg|tests)\//,
      /^models\/data\/(?!reasonseg-synth\/sequences\/)/,
      /^native\/test\//,
      /(\.map|\.py|(?<!\.d)\.ts)$/,
      /(^|\/)\.npmrc$/,
    ];
    expect(files.filter((f) => forbidden.some((re) => re.test(f)))).toEqual([]);
  });

  it('holds the runtime, the embedded model, the demo sequences, the native sources and the ROS message', () => {
    const required = [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/sdk/index.js',
      'dist/sdk/index.d.ts',
      'dist/sdk/backends/onnx-worker.js',
      'dist/sdk/stream/gif-worker.js',
      'dist/zmq/index.js',
      'dist/ros/index.js',
      'dist/cli/main.js',
      'models/bundles/anchorseg-tiny/anchorseg.json',
      'models/bundles/anchorseg-tiny/vision.onnx',
      'models/bundles/anchorseg-tiny/reasoner.onnx',
      'models/bundles/anchorseg-tiny/decoder.onnx',
      'models/bundles/anchorseg-tiny/vocab.txt',
      'models/data/reasonseg-synth/sequences/seq00/sequence.json',
      'binding.gyp',
      'native/scripts/install.cjs',
      'native/src/napi/addon.cc',
      'native/tensorrt/detect.cjs',
      'ros/anchorseg_msgs/msg/Segmentation.msg',
      'ros/anchorseg_msgs/package.xml',
      'ros/fastdds-loopback.xml',
    ];
    expect(required.filter((f) => !files.includes(f))).toEqual([]);
  });

  it('every compiled file comes from a source in the repository (no stale dist/ output)', () => {
    const stale = files.filter((f) => f.startsWith('dist/') && !existsSync(path.join(ROOT, f.slice('dist/'.length).replace(/(\.d\.ts|\.js)$/, '.ts'))));
    expect(stale).toEqual([]);
  });
});

describe('installed into a fresh project with the README consumer line in .npmrc', () => {
  it('installs without ONNXRUNTIME_NODE_INSTALL and builds the native kernels', async () => {
    expect(install.code, `${install.stdout}${install.stderr}`).toBe(0);
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\`${CONSUMER_NPMRC}\` in the project's \`.npmrc\``);
    const info = await run(process.execPath, ['node_modules/.bin/anchorseg', 'info', '--json'], consumer);
    expect(info.code, info.stderr).toBe(0);
    const report = JSON.parse(info.stdout.trim().split('\n').at(-1)!);
    expect(report.kernels).toBe('native');
    expect(report.backends.find((b: { name: string }) => b.name === 'onnx').available).toBe(true);
    expect(existsSync(path.join(consumer, 'node_modules', 'anchorseg', 'build', 'Release', 'anchorseg.node'))).toBe(true);
  });

  it(`runs the README's JavaScript block as written (Node ${process.versions.node})`, async () => {
    expect(install.code).toBe(0);
    const snippet = await readmeSnippet();
    expect(snippet).not.toMatch(/\bawait using\b/);
    await copyFile(IMAGE, path.join(consumer, 'kitchen.jpg'));
    await writeFile(path.join(consumer, 'segment.mjs'), snippet);
    const r = await run(process.execPath, ['segment.mjs'], consumer);
    expect(r.code, r.stderr).toBe(0);
    // found: score, COCO bbox, area, anchor, as console.log prints them
    expect(r.stdout).toMatch(/^0\.\d+ \[ \d+, \d+, \d+, \d+ \] \d+ \{ x: [\d.]+, y: [\d.]+ \}\n$/);
    const png = await sharp(path.join(consumer, 'overlay.png')).metadata();
    expect([png.format, png.width, png.height]).toEqual(['png', 160, 120]);

    // The same block against this checkout's dist/ prints the same line: the package is this code.
    const here = await tempDir('anchorseg-snippet-');
    await copyFile(IMAGE, path.join(here, 'kitchen.jpg'));
    await writeFile(path.join(here, 'segment.mjs'), snippet.replace("from 'anchorseg'", `from '${pathToFileURL(path.join(ROOT, 'dist', 'sdk', 'index.js')).href}'`));
    const ref = await run(process.execPath, ['segment.mjs'], here);
    expect(ref.code, ref.stderr).toBe(0);
    expect(r.stdout).toBe(ref.stdout);
  });

  it('anchorseg demo plays the bundled sequences', async () => {
    expect(install.code).toBe(0);
    const r = await run(process.execPath, ['node_modules/.bin/anchorseg', 'demo', '--frames', '4', '--no-pace', '--no-gif', '--out', 'out/demo'], consumer);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('6 sequences (540 frames');
    expect(existsSync(path.join(consumer, 'out', 'demo', 'results.jsonl'))).toBe(true);
  });

  it('anchorseg eval without --data refuses in one coded line: the test split is in the repository only', async () => {
    expect(install.code).toBe(0);
    const r = await run(process.execPath, ['node_modules/.bin/anchorseg', 'eval'], consumer);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^anchorseg: .*installed anchorseg package does not hold it.*anchorseg eval --data <dir>.* \[ERR_DATA_INVALID\]$/);
  });

  it('build-engine --check compares frames of the bundled sequences where the test split is absent', async () => {
    expect(install.code).toBe(0);
    const script =
      "const { checkBackends } = await import('./node_modules/anchorseg/dist/cli/tensorrt-check.js');" +
      "const { rows, verdict } = await checkBackends({ candidate: 'onnx', reference: 'onnx', frames: 3 });" +
      'console.log(JSON.stringify({ ids: rows.map((r) => r.id), pass: verdict.pass }));';
    await writeFile(path.join(consumer, 'check.mjs'), script);
    const r = await run(process.execPath, ['check.mjs'], consumer);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ids: ['seq00/0000.jpg', 'seq01/0000.jpg', 'seq02/0000.jpg'], pass: true });
  });
});
