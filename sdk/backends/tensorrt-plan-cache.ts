/**
 * Where built TensorRT plans live and what they are keyed by. A plan only runs on the TensorRT
 * version and GPU that built it, so the key covers: the model's sha256 (the ONNX file and its
 * external-data files), the runtime TensorRT
 * version, the CUDA runtime version, the GPU name and compute capability, the L4T release on a
 * Jetson, every build option, and this cache's schema version. Files are written atomically
 * (temporary file + rename), so a crash or a concurrent build never leaves a torn plan.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { AnchorSegError } from '../base/errors.js';
import { externalDataFiles } from './onnx-external-data.js';
import type { BuildOptions, DeviceInfo } from './tensorrt-provider.js';

/** Bump when the key material or the file layout changes: older plans are then ignored. */
export const PLAN_CACHE_SCHEMA = 2;

export function planCacheDir(): string {
  const base = process.env.ANCHORSEG_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'anchorseg');
  return join(base, 'tensorrt');
}

export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * What a plan is built from: the ONNX file's sha256, or for a model with external data, the sha256
 * of the file's digest and each data file's name and digest (a changed `.onnx.data` beside an
 * unchanged graph is a different model).
 */
export async function modelSha256(onnxFile: string): Promise<string> {
  const graph = await fileSha256(onnxFile);
  const data = await externalDataFiles(onnxFile);
  if (data.length === 0) return graph;
  const dir = resolve(dirname(onnxFile));
  const parts = [graph];
  for (const name of data) {
    const file = resolve(dir, name);
    if (!file.startsWith(dir + sep)) throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected external data of ${onnxFile} inside its folder but it names ${JSON.stringify(name)}`);
    parts.push(`${name}\n${await fileSha256(file)}`);
  }
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** The Jetson's L4T release line (`/etc/nv_tegra_release`), or '' elsewhere. */
export function l4tRelease(): string {
  try {
    return readFileSync('/etc/nv_tegra_release', 'utf8').split('\n')[0].trim();
  } catch {
    return '';
  }
}

export interface PlanKey {
  schema: number;
  onnx: string;
  /** modelSha256(): the graph and its external data. */
  modelSha256: string;
  tensorrt: string;
  cudaRuntime: number;
  gpu: string;
  computeCapability: string;
  l4t: string;
  options: BuildOptions;
}

export function planKey(onnxFile: string, modelSha256: string, device: DeviceInfo, options: BuildOptions, l4t: string): { key: PlanKey; id: string } {
  const key: PlanKey = {
    schema: PLAN_CACHE_SCHEMA,
    onnx: basename(onnxFile),
    modelSha256,
    tensorrt: device.tensorrt,
    cudaRuntime: device.cudaRuntime,
    gpu: device.gpu,
    computeCapability: device.computeCapability,
    l4t,
    // Fixed property order: the id must not depend on how the caller spelled the object.
    options: { fp16: options.fp16, workspaceBytes: options.workspaceBytes, dlaCore: options.dlaCore, dynamicMax: options.dynamicMax },
  };
  const id = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 24);
  return { key, id };
}

/** `<dir>/<onnx name>-<id>.plan`, with the key beside it as JSON (for people and for `info`). */
export function planPath(dir: string, key: PlanKey, id: string): string {
  return join(dir, `${key.onnx.replace(/\.onnx$/i, '')}-${id}.plan`);
}

/** Timing caches are per TensorRT version and GPU; builds of every model share one. */
export function timingCachePath(dir: string, device: DeviceInfo): string {
  const tag = `${device.tensorrt}-${device.gpu}-${device.computeCapability}`.replace(/[^A-Za-z0-9.]+/g, '_');
  return join(dir, `timing-${tag}.cache`);
}

export async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function storePlan(file: string, key: PlanKey, plan: Uint8Array): Promise<void> {
  await writeAtomic(file, plan);
  await writeAtomic(`${file.slice(0, -'.plan'.length)}.json`, `${JSON.stringify(key, null, 2)}\n`);
}
