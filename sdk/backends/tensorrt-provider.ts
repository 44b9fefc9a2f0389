/**
 * The optional TensorRT provider addon (build/Release/anchorseg_trt.node, native/tensorrt/). It is
 * compiled only where TensorRT 10 and CUDA are found; this project's CI has neither, so this path
 * has never run here (docs/tensorrt.md).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../kernels/native.js';

/** Bumped with the addon's surface; must equal kProviderAbi in native/tensorrt/addon.cc. */
export const TENSORRT_PROVIDER_ABI = 1;

export interface DeviceInfo {
  tensorrt: string;
  tensorrtBuilt: string;
  cudaRuntime: number;
  cudaDriver: number;
  gpu: string;
  computeCapability: string;
  integrated: boolean;
  dlaCores: number;
}

export interface BuildOptions {
  fp16: boolean;
  workspaceBytes: number;
  /** -1: GPU only; >= 0: that DLA core with GPU fallback. */
  dlaCore: number;
  /** Upper bound of dynamic input dimensions (the goal length of a full-size split). */
  dynamicMax: number;
}

export interface NativeTensor {
  dtype: string;
  dims: number[];
  data: Uint8Array | Float32Array | Uint16Array | BigInt64Array | Int32Array;
}

export interface NativeTrtEngine {
  load(): Promise<{ inputs: { name: string; dtype: string; shape: (number | string)[] }[]; outputs: { name: string; dtype: string; shape: (number | string)[] }[] }>;
  run(feeds: Record<string, NativeTensor>): Promise<Record<string, { dtype: string; dims: number[]; data: Buffer }>>;
  close(): Promise<void>;
}

export interface TensorrtProvider {
  providerAbi: number;
  providerInfo(): Promise<DeviceInfo>;
  build(
    onnxPath: string,
    options: BuildOptions & { timingCache?: Buffer },
    onProgress?: (phase: string, step: number, steps: number) => void,
  ): { promise: Promise<{ plan: Buffer; timingCache: Buffer }>; cancel(): void };
  Engine: new (plan: Buffer) => NativeTrtEngine;
}

let cached: { provider: TensorrtProvider | null; reason: string } | undefined;

/** The provider, or null with the reason it is absent (one line). */
export function tensorrtProvider(): { provider: TensorrtProvider | null; reason: string } {
  cached ??= (() => {
    if (process.env.ANCHORSEG_TENSORRT === '0') return { provider: null, reason: 'disabled by ANCHORSEG_TENSORRT=0' };
    const file = ['Release', 'Debug'].map((d) => join(packageRoot(), 'build', d, 'anchorseg_trt.node')).find((f) => existsSync(f));
    if (!file) {
      return {
        provider: null,
        reason: 'the TensorRT provider is not built (it builds only where TensorRT 10 and CUDA are found: set TENSORRT_ROOT/CUDA_ROOT or use JetPack 6.1+, then `npm run build:native`)',
      };
    }
    try {
      const provider = createRequire(import.meta.url)(file) as TensorrtProvider;
      if (provider.providerAbi !== TENSORRT_PROVIDER_ABI)
        return { provider: null, reason: `${file} is a stale build (provider ABI ${provider.providerAbi}, need ${TENSORRT_PROVIDER_ABI}): run \`npm run build:native\`` };
      return { provider, reason: '' };
    } catch (err) {
      return { provider: null, reason: `${file} does not load: ${(err as Error).message.split('\n')[0]}` };
    }
  })();
  return cached;
}
