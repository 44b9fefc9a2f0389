/**
 * The TensorRT path as far as a machine without TensorRT can take it: the build-time detection,
 * the clear verdict of `anchorseg build-engine` without the provider, the plan cache key and its
 * atomic files, and the --check comparison (run here with ONNX Runtime on both sides, the same
 * code path that compares TensorRT with ONNX Runtime on a Jetson). The provider itself
 * (native/tensorrt/) has been compiled against real TensorRT 10.0 and 10.6 headers by hand
 * (native/tensorrt/check-headers.sh), never linked or run here: docs/tensorrt.md.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { listBackends } from '../sdk/backends/index.js';
import { compareResults, verdict } from '../cli/tensorrt-check.js';
import { externalDataFiles } from '../sdk/backends/onnx-external-data.js';
import { PLAN_CACHE_SCHEMA, fileSha256, modelSha256, planKey, planPath, readIfExists, storePlan, timingCachePath, writeAtomic } from '../sdk/backends/tensorrt-plan-cache.js';
import { tensorrtProvider, type DeviceInfo } from '../sdk/backends/tensorrt-provider.js';
import { DEFAULT_BUILD_OPTIONS } from '../sdk/backends/tensorrt.js';
import type { SegmentResult } from '../sdk/model/result.js';
import { BUNDLE, PYTHON } from './fixtures/sdk-helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = await mkdtemp(join(tmpdir(), 'anchorseg-trt-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

const orin: DeviceInfo = {
  tensorrt: '10.3.0',
  tensorrtBuilt: '10.3.0',
  cudaRuntime: 12060,
  cudaDriver: 12060,
  gpu: 'Orin',
  computeCapability: '8.7',
  integrated: true,
  dlaCores: 2,
};

describe('build-time detection (native/tensorrt/detect.cjs)', () => {
  async function detect(env: Record<string, string>, mode: string): Promise<string> {
    const { stdout } = await run(process.execPath, ['native/tensorrt/detect.cjs', mode], { cwd: root, env: { ...process.env, ...env } });
    return stdout;
  }
  /** A TensorRT + CUDA layout with empty files; `version` is NvInferVersion.h's text. */
  async function fakeInstall(major: number, version = `#define NV_TENSORRT_MAJOR ${major}\n`): Promise<{ trt: string; cuda: string }> {
    const trt = await mkdtemp(join(scratch, `trt${major}-`));
    const cuda = join(trt, 'cuda');
    for (const d of [join(trt, 'include'), join(trt, 'lib'), join(cuda, 'include'), join(cuda, 'lib64')]) await mkdir(d, { recursive: true });
    await writeFile(join(trt, 'include', 'NvInferVersion.h'), version);
    await writeFile(join(trt, 'include', 'NvOnnxParser.h'), '');
    for (const f of ['libnvinfer.so', 'libnvonnxparser.so']) await writeFile(join(trt, 'lib', f), '');
    await writeFile(join(cuda, 'include', 'cuda_runtime_api.h'), '');
    await writeFile(join(cuda, 'lib64', 'libcudart.so'), '');
    return { trt, cuda };
  }

  it('finds nothing on this machine, so only the CPU kernels build', async () => {
    expect(await detect({ TENSORRT_ROOT: join(scratch, 'none'), CUDA_ROOT: join(scratch, 'none') }, 'enabled')).toBe('0');
    expect(tensorrtProvider().provider).toBeNull();
    expect(listBackends().map((b) => b.name)).not.toContain('tensorrt');
  });

  it('accepts TensorRT 10 with CUDA, from TENSORRT_ROOT/CUDA_ROOT, and hands binding.gyp its flags', async () => {
    const { trt, cuda } = await fakeInstall(10);
    const env = { TENSORRT_ROOT: trt, CUDA_ROOT: cuda };
    expect(await detect(env, 'enabled')).toBe('1');
    expect(await detect(env, 'include_dirs')).toBe(`${join(trt, 'include')} ${join(cuda, 'include')}`);
    expect(await detect(env, 'libraries')).toBe(`-L${join(trt, 'lib')} -Wl,-rpath,${join(trt, 'lib')} -L${join(cuda, 'lib64')} -Wl,-rpath,${join(cuda, 'lib64')} -lnvinfer -lnvonnxparser -lcudart`);
    expect(await detect({ ...env, ANCHORSEG_TENSORRT: '0' }, 'enabled')).toBe('0');
  });

  it('refuses TensorRT 8 (JetPack 6.0): the provider needs the TensorRT 10 name-based API', async () => {
    const { trt, cuda } = await fakeInstall(8);
    expect(await detect({ TENSORRT_ROOT: trt, CUDA_ROOT: cuda }, 'enabled')).toBe('0');
  });

  it("reads TensorRT 10.11+'s indirect version macro (NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE)", async () => {
    const indirect = (major: number) => `#define TRT_MAJOR_ENTERPRISE ${major}\n#define TRT_MINOR_ENTERPRISE 14\n#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE\n`;
    for (const [major, enabled] of [
      [10, '1'],
      [9, '0'],
    ] as const) {
      const { trt, cuda } = await fakeInstall(major, indirect(major));
      expect(await detect({ TENSORRT_ROOT: trt, CUDA_ROOT: cuda }, 'enabled')).toBe(enabled);
    }
    const { trt, cuda } = await fakeInstall(10, '#define NV_TENSORRT_MAJOR TRT_MAJOR_UNDEFINED\n');
    expect(await detect({ TENSORRT_ROOT: trt, CUDA_ROOT: cuda }, 'enabled')).toBe('0');
  });
});

describe('anchorseg build-engine without TensorRT', () => {
  it.each([[[]], [['--fp16', '--check']]])('%j: one line, ERR_BACKEND_UNAVAILABLE, exit code 1', async (args) => {
    const err = await run(process.execPath, ['dist/cli/main.js', 'build-engine', ...args], { cwd: root }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stdout).toBe('');
    expect(err?.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(err?.stderr).toMatch(/^anchorseg: TensorRT is not available: the TensorRT provider is not built .*\[ERR_BACKEND_UNAVAILABLE\]\n$/);
  });
});

describe('plan cache', () => {
  const sha = 'ab'.repeat(32);
  const base = planKey('/b/vision.onnx', sha, orin, DEFAULT_BUILD_OPTIONS, '# R36 (release), REVISION: 4.0');

  it('keys a plan by everything it is tied to', () => {
    expect(base.key).toMatchObject({ schema: PLAN_CACHE_SCHEMA, onnx: 'vision.onnx', modelSha256: sha, tensorrt: '10.3.0', cudaRuntime: 12060, gpu: 'Orin', computeCapability: '8.7' });
    const variants = [
      planKey('/b/vision.onnx', 'cd'.repeat(32), orin, DEFAULT_BUILD_OPTIONS, base.key.l4t),
      planKey('/b/vision.onnx', sha, { ...orin, tensorrt: '10.3.1' }, DEFAULT_BUILD_OPTIONS, base.key.l4t),
      planKey('/b/vision.onnx', sha, { ...orin, cudaRuntime: 12020 }, DEFAULT_BUILD_OPTIONS, base.key.l4t),
      planKey('/b/vision.onnx', sha, { ...orin, gpu: 'NVIDIA H100' }, DEFAULT_BUILD_OPTIONS, base.key.l4t),
      planKey('/b/vision.onnx', sha, { ...orin, computeCapability: '9.0' }, DEFAULT_BUILD_OPTIONS, base.key.l4t),
      planKey('/b/vision.onnx', sha, orin, DEFAULT_BUILD_OPTIONS, '# R36 (release), REVISION: 3.0'),
      planKey('/b/vision.onnx', sha, orin, { ...DEFAULT_BUILD_OPTIONS, fp16: true }, base.key.l4t),
      planKey('/b/vision.onnx', sha, orin, { ...DEFAULT_BUILD_OPTIONS, workspaceBytes: 2 ** 29 }, base.key.l4t),
      planKey('/b/vision.onnx', sha, orin, { ...DEFAULT_BUILD_OPTIONS, dlaCore: 0 }, base.key.l4t),
      planKey('/b/vision.onnx', sha, orin, { ...DEFAULT_BUILD_OPTIONS, dynamicMax: 40 }, base.key.l4t),
    ];
    const ids = new Set([base.id, ...variants.map((v) => v.id)]);
    expect(ids.size).toBe(variants.length + 1);
    // The driver version and the spelling of the options object do not change the key.
    const reordered = { dynamicMax: 64, dlaCore: -1, workspaceBytes: 2 ** 30, fp16: false };
    expect(planKey('/other/vision.onnx', sha, { ...orin, cudaDriver: 12080 }, reordered, base.key.l4t).id).toBe(base.id);
  });

  it('keys on external data too: a changed .onnx.data beside the same graph is another model', async () => {
    const dir = await mkdtemp(join(scratch, 'external-'));
    const model = join(dir, 'm.onnx');
    // onnx's own writer, weights in one external file (as the full-size exporter writes them).
    await run(PYTHON, [
      '-c',
      [
        'import sys, numpy as np, onnx',
        'from onnx import helper, numpy_helper, TensorProto as T',
        "w = numpy_helper.from_array(np.arange(4096, dtype=np.float32).reshape(64, 64), 'w')",
        "g = helper.make_graph([helper.make_node('MatMul', ['x', 'w'], ['y'])], 'g', [helper.make_tensor_value_info('x', T.FLOAT, [1, 64])], [helper.make_tensor_value_info('y', T.FLOAT, [1, 64])], [w])",
        "onnx.save_model(helper.make_model(g), sys.argv[1], save_as_external_data=True, all_tensors_to_one_file=True, location='m.onnx.data', size_threshold=0)",
      ].join('\n'),
      model,
    ]);
    expect(await externalDataFiles(model)).toEqual(['m.onnx.data']);
    const before = await modelSha256(model);
    expect(before).not.toBe(await fileSha256(model));
    const data = await readFile(join(dir, 'm.onnx.data'));
    data[0] ^= 1;
    await writeFile(join(dir, 'm.onnx.data'), data);
    expect(await modelSha256(model)).not.toBe(before);
    // Weights inside the graph: the key is the file's own sha256, as before external data counted.
    const vision = join(BUNDLE, 'vision.onnx');
    expect(await externalDataFiles(vision)).toEqual([]);
    expect(await modelSha256(vision)).toBe(await fileSha256(vision));
  });

  it('names files by model and key; timing caches per TensorRT version and GPU', () => {
    expect(planPath('/c', base.key, base.id)).toBe(`/c/vision-${base.id}.plan`);
    expect(timingCachePath('/c', orin)).toBe('/c/timing-10.3.0_Orin_8.7.cache');
    expect(timingCachePath('/c', { ...orin, gpu: 'NVIDIA GeForce RTX 4090' })).toBe('/c/timing-10.3.0_NVIDIA_GeForce_RTX_4090_8.7.cache');
  });

  it('writes plans atomically: concurrent writers leave one whole file and no temporaries', async () => {
    const dir = join(scratch, 'cache');
    const file = planPath(dir, base.key, base.id);
    const blobs = Array.from({ length: 8 }, (_, i) => Buffer.alloc(1 << 20, i + 1));
    await Promise.all(blobs.map((b) => storePlan(file, base.key, b)));
    const got = await readIfExists(file);
    expect(got).toHaveLength(1 << 20);
    expect(blobs.some((b) => b.equals(got!))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual([`vision-${base.id}.json`, `vision-${base.id}.plan`]);
    expect(await readIfExists(join(dir, 'missing.plan'))).toBeUndefined();
    await expect(writeAtomic(join(scratch, 'cache', `vision-${base.id}.plan`, 'x'), 'y')).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('--check comparison', () => {
  const result = (mask: number[], score: number, found: boolean, tokens: number[]): SegmentResult =>
    ({ mask: Uint8Array.from(mask), score, found, tokenMap: { grid: 2, data: Float32Array.from(tokens) } }) as unknown as SegmentResult;

  it('scores agreement by mask IoU, score and token-map differences', () => {
    const row = compareResults('a', 'cup', result([255, 255, 0, 0], 0.8, true, [1, 2, 3, 4]), result([255, 0, 0, 0], 0.78, true, [1, 2, 3, 4.5]));
    expect(row).toMatchObject({ iou: 0.5, foundAgrees: true, tokenMapMaxDiff: 0.5 });
    expect(row.scoreDiff).toBeCloseTo(0.02, 12);
    expect(compareResults('b', 'x', result([0, 0], 0.1, false, [0]), result([0, 0], 0.1, false, [0])).iou).toBe(1);
    const v = verdict([row]);
    expect(v.pass).toBe(false);
    expect(v.problems).toEqual(['a: mask IoU 0.500 < 0.9', 'mean mask IoU 0.500 < 0.97']);
    expect(verdict([]).pass).toBe(false);
    expect(verdict([{ ...row, iou: 0.99, scoreDiff: 0.01 }]).pass).toBe(true);
  });

  it('runs end to end on the bundled model (ONNX Runtime on both sides here)', async () => {
    const { checkBackends } = await import('../cli/tensorrt-check.js');
    const { rows, verdict: v } = await checkBackends({ candidate: 'onnx', reference: 'onnx', frames: 2 });
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatchObject({ iou: 1, scoreDiff: 0, tokenMapMaxDiff: 0, foundAgrees: true });
    expect(v.pass).toBe(true);
  });
});
