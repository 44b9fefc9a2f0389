/**
 * Loads the native kernels addon (build/Release/anchorseg.node or a prebuild) through
 * node-gyp-build. `loadNative()` throws an actionable ERR_NATIVE_UNAVAILABLE; `nativeKernels()`
 * is what the SDK uses: the addon, or null (the TS reference kernels then run instead).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnchorSegError } from '../base/errors.js';
import type { Frame } from '../base/frame.js';

/** Bumped with any change of the functions below; a stale build is reported as incompatible. */
export const KERNELS_ABI = 1;

export interface NativeImageParams {
  inputWidth: number;
  inputHeight: number;
  contentWidth: number;
  contentHeight: number;
  channelOrder: 'rgb' | 'bgr';
  dtype: 'float32' | 'float16';
  mean: number[];
  std: number[];
}

export interface NativeLogitsParams {
  logitsWidth: number;
  logitsHeight: number;
  contentWidth: number;
  contentHeight: number;
  inputWidth: number;
  inputHeight: number;
  frameWidth: number;
  frameHeight: number;
  threshold: number;
}

export interface NativeMask {
  mask: Buffer;
  bbox: [number, number, number, number] | null;
  area: number;
}

/** The addon's surface (native/src/addon.cc). Arguments are validated in TS first; C++ re-checks sizes. */
export interface NativeKernels {
  kernelsAbi: number;
  frameToTensor(frame: Frame, params: NativeImageParams): Buffer;
  frameToTensorAsync(frame: Frame, params: NativeImageParams): Promise<Buffer>;
  logitsToMask(logits: Float32Array, params: NativeLogitsParams): NativeMask;
  logitsToMaskAsync(logits: Float32Array, params: NativeLogitsParams): Promise<NativeMask>;
  rleEncode(mask: Uint8Array, width: number, height: number): string;
  rleDecode(counts: string, height: number, width: number): Buffer;
  overlay(frame: Frame, mask: Uint8Array, color: number[], alpha: number): Buffer;
  /** Threads the image kernel splits rows over (1 = the calling thread only); returns the previous count. */
  setThreads(n: number): number;
  /** Optional TensorRT provider, present only in builds where TensorRT and CUDA were found. */
  tensorrt?: unknown;
}

/** The package root: the nearest folder upwards holding the anchorseg package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'anchorseg') return dir;
    const up = dirname(dir);
    if (up === dir) throw new AnchorSegError('ERR_NATIVE_UNAVAILABLE', 'Could not find the anchorseg package root above sdk/kernels');
    dir = up;
  }
}

function unavailable(cause: unknown): AnchorSegError {
  const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
  const where = `${process.platform}-${process.arch}, Node ${process.version} (ABI ${process.versions.modules}, N-API ${process.versions.napi})`;
  return new AnchorSegError(
    'ERR_NATIVE_UNAVAILABLE',
    [
      `Could not load the anchorseg native kernels for ${where}: ${reason}`,
      'Possible solutions:',
      '- Build them from source: `npm rebuild anchorseg` (in a checkout: `npm run build:native`);',
      '  this needs python3, make and a C++17 compiler (Debian/Ubuntu: `apt install build-essential python3`).',
      '- Prebuilds are made for linux-x64 and linux-arm64 only (glibc >= 2.34); elsewhere it builds from source.',
      '- Or run without them: set ANCHORSEG_KERNELS=ts to use the (slower) TypeScript kernels.',
    ].join('\n'),
    { cause },
  );
}

let cached: { kernels: NativeKernels | null; error: AnchorSegError | null } | undefined;

function attempt(): { kernels: NativeKernels | null; error: AnchorSegError | null } {
  if (process.env.ANCHORSEG_KERNELS === 'ts') {
    return { kernels: null, error: new AnchorSegError('ERR_NATIVE_UNAVAILABLE', 'Native kernels disabled by ANCHORSEG_KERNELS=ts') };
  }
  try {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => unknown;
    const addon = load(packageRoot()) as NativeKernels;
    if (addon.kernelsAbi !== KERNELS_ABI) {
      throw new Error(`the binary implements kernels ABI ${String(addon.kernelsAbi)}, this SDK needs ${KERNELS_ABI} (a stale build)`);
    }
    return { kernels: addon, error: null };
  } catch (cause) {
    return { kernels: null, error: unavailable(cause) };
  }
}

/** The native kernels, or throws ERR_NATIVE_UNAVAILABLE with what to do about it. */
export function loadNative(): NativeKernels {
  cached ??= attempt();
  if (cached.error) throw cached.error;
  return cached.kernels as NativeKernels;
}

/** The native kernels, or null when they cannot be loaded (the SDK then uses the TS kernels). */
export function nativeKernels(): NativeKernels | null {
  cached ??= attempt();
  return cached.kernels;
}
