/**
 * The `tensorrt` backend: engines from TensorRT plans built on this machine from the bundle's
 * ONNX files and cached (tensorrt-plan-cache.ts). Registered only where the provider addon is
 * built. Not run by this project's CI: no machine here has TensorRT (docs/tensorrt.md).
 */
import { AnchorSegError, abortError, throwIfAborted } from '../base/errors.js';
import type { DType, Tensor, TensorData, TensorInfo } from './tensor.js';
import { registerBackend, type Backend, type Engine, type EngineOptions } from './registry.js';
import { modelSha256, l4tRelease, planCacheDir, planKey, planPath, readIfExists, storePlan, timingCachePath, writeAtomic } from './tensorrt-plan-cache.js';
import { tensorrtProvider, type BuildOptions, type DeviceInfo, type NativeTrtEngine, type TensorrtProvider } from './tensorrt-provider.js';

/** FP32 unless asked: FP16 engines must first pass `anchorseg build-engine --fp16 --check`. */
export const DEFAULT_BUILD_OPTIONS: BuildOptions = { fp16: false, workspaceBytes: 1 << 30, dlaCore: -1, dynamicMax: 64 };

export function requireProvider(): TensorrtProvider {
  const { provider, reason } = tensorrtProvider();
  if (!provider) throw new AnchorSegError('ERR_BACKEND_UNAVAILABLE', `TensorRT is not available: ${reason}`);
  return provider;
}

export interface PlanRequest {
  options: BuildOptions;
  /** modelSha256(onnxFile) when the caller has it already. */
  modelSha256?: string;
  /** Rebuild even when a plan with this key exists. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (phase: string, step: number, steps: number) => void;
}

/** The cached plan for `onnxFile` under these options, building (and caching) it when missing. */
export async function ensurePlan(provider: TensorrtProvider, device: DeviceInfo, onnxFile: string, req: PlanRequest): Promise<{ file: string; plan: Buffer; built: boolean }> {
  const dir = planCacheDir();
  const { key, id } = planKey(onnxFile, req.modelSha256 ?? (await modelSha256(onnxFile)), device, req.options, l4tRelease());
  const file = planPath(dir, key, id);
  const existing = req.force ? undefined : await readIfExists(file);
  if (existing) return { file, plan: existing, built: false };
  throwIfAborted(req.signal);
  const timingFile = timingCachePath(dir, device);
  const job = provider.build(onnxFile, { ...req.options, timingCache: await readIfExists(timingFile) }, req.onProgress);
  const cancel = () => job.cancel();
  req.signal?.addEventListener('abort', cancel, { once: true });
  try {
    const { plan, timingCache } = await job.promise;
    await storePlan(file, key, plan);
    if (timingCache.length > 0) await writeAtomic(timingFile, timingCache);
    return { file, plan, built: true };
  } catch (err) {
    if (req.signal?.aborted) throw abortError(req.signal);
    throw err;
  } finally {
    req.signal?.removeEventListener('abort', cancel);
  }
}

const ARRAYS: Record<DType, { new (b: ArrayBuffer, o: number, n: number): TensorData; BYTES_PER_ELEMENT: number }> = {
  float32: Float32Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

class TensorrtEngine implements Engine {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly #native: NativeTrtEngine;

  private constructor(native: NativeTrtEngine, io: Awaited<ReturnType<NativeTrtEngine['load']>>) {
    this.#native = native;
    this.inputs = io.inputs as TensorInfo[];
    this.outputs = io.outputs as TensorInfo[];
  }

  /**
   * An FP16 plan someone built for this device wins, then an FP32 one; with neither, an FP32
   * plan is built now (minutes on a Jetson: `anchorseg build-engine` does it ahead, with
   * progress). A cached plan that no longer deserializes is rebuilt once.
   */
  static async open(provider: TensorrtProvider, device: DeviceInfo, onnxFile: string, options: EngineOptions): Promise<TensorrtEngine> {
    const { signal } = options;
    const sha = await modelSha256(onnxFile);
    // the goal-length bound is part of the plan key: the same one `anchorseg build-engine` uses
    const base = { ...DEFAULT_BUILD_OPTIONS, ...(options.dynamicMax !== undefined && { dynamicMax: options.dynamicMax }) };
    for (const fp16 of [true, false]) {
      const req = { options: { ...base, fp16 }, modelSha256: sha, signal };
      const { key, id } = planKey(onnxFile, sha, device, req.options, l4tRelease());
      const plan = await readIfExists(planPath(planCacheDir(), key, id));
      if (!plan) continue;
      const engine = await TensorrtEngine.#load(provider, plan).catch(() => undefined);
      return engine ?? TensorrtEngine.#load(provider, (await ensurePlan(provider, device, onnxFile, { ...req, force: true })).plan);
    }
    const { plan } = await ensurePlan(provider, device, onnxFile, { options: base, modelSha256: sha, signal });
    return TensorrtEngine.#load(provider, plan);
  }

  static async #load(provider: TensorrtProvider, plan: Buffer): Promise<TensorrtEngine> {
    const native = new provider.Engine(plan);
    try {
      return new TensorrtEngine(native, await native.load());
    } catch (err) {
      await native.close();
      throw err;
    }
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
    const raw = await this.#native.run(feeds);
    const out: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(raw)) {
      const dtype = t.dtype as DType;
      const Array_ = ARRAYS[dtype];
      // The addon's output buffers are their own allocations, aligned for any element type.
      out[name] = { dtype, dims: t.dims, data: new Array_(t.data.buffer as ArrayBuffer, t.data.byteOffset, t.data.byteLength / Array_.BYTES_PER_ELEMENT) };
    }
    return out;
  }

  close(): Promise<void> {
    return this.#native.close();
  }
}

/** Creates the backend around a loaded provider (the device is queried once, at init). */
export function tensorrtBackend(provider: TensorrtProvider): Backend {
  let device: DeviceInfo | undefined;
  return {
    async init() {
      device = await provider.providerInfo();
    },
    createEngine: (file, options) => TensorrtEngine.open(provider, device!, file, options),
    describe() {
      return {
        runtime: `TensorRT ${device?.tensorrt ?? '?'} (built against ${device?.tensorrtBuilt ?? '?'}), CUDA runtime ${device?.cudaRuntime ?? '?'}`,
        execution: `${device?.gpu ?? 'GPU'} (compute ${device?.computeCapability ?? '?'}), one engine thread each; plans in ${planCacheDir()}`,
      };
    },
  };
}

/** Registers `tensorrt` above `onnx` where the provider addon is built; elsewhere does nothing. */
export function registerTensorrt(): void {
  const { provider } = tensorrtProvider();
  if (provider) registerBackend('tensorrt', tensorrtBackend(provider), 10);
}
