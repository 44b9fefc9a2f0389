/**
 * What the kernels read stays readable (issue 15, items 2 and 4): an async job on a large frame
 * does not read a buffer the caller transfers away meanwhile (that was a segmentation fault), and
 * frames and logits on a SharedArrayBuffer are read like any other (that was a codeless
 * "Invalid argument" from the addon). docs/robustness.md lists these.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import * as kernels from '../sdk/kernels/index.js';
import { INLINE_MAX_PIXELS, letterboxFor } from '../sdk/kernels/index.js';
import { imageSpec, makeFrame, makeLogits } from './fixtures/kernels-frames.js';
import { ROOT } from './fixtures/sdk-helpers.js';

const native = kernels.loadNative();

/** Byte equality without vitest's element-by-element diff (slow on megabyte arrays). */
const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => bytesOf(a).equals(bytesOf(b));

function onShared<T extends Uint8Array | Float32Array>(a: T): T {
  const sab = new SharedArrayBuffer(a.byteLength);
  const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(sab);
  out.set(a as never);
  return out;
}

describe('a buffer transferred away while an async kernel job reads it', () => {
  it('large frame and logits, buffer transferred, collected and its memory reused: the process lives and every job gives the right bytes', () => {
    // 4000x3000 rgb8 (36 MB, mmap'd: freeing it unmaps it) and a 4000x3000 mask: far past INLINE_MAX_PIXELS.
    expect(4000 * 3000).toBeGreaterThan(INLINE_MAX_PIXELS);
    const out = execFileSync(process.execPath, ['--expose-gc', path.join(ROOT, 'test', 'fixtures', 'detach-child.mjs'), '6'], { encoding: 'utf8', timeout: 300_000 });
    const outcome = JSON.parse(out) as Record<'tensors' | 'masks', { same: number; coded: number; other: string[] }>;
    // The job reads a copy taken at call time: a correct result every time, never a coded error.
    expect(outcome).toEqual({ tensors: { same: 6, coded: 0, other: [] }, masks: { same: 6, coded: 0, other: [] } });
  });

  it('the addon called directly: detaching right after the call leaves the job result intact', async () => {
    const frame = makeFrame('rgb8', 1280, 960);
    const params = { inputWidth: 64, inputHeight: 64, contentWidth: 64, contentHeight: 48, channelOrder: 'rgb' as const, dtype: 'float32' as const, mean: [0, 0, 0], std: [1, 1, 1] };
    const want = native.frameToTensor({ ...frame, data: Uint8Array.from(frame.data) }, params);
    const job = native.frameToTensorAsync(frame, params);
    structuredClone(frame.data.buffer, { transfer: [frame.data.buffer as ArrayBuffer] });
    expect(frame.data.byteLength).toBe(0);
    expect(sameBytes(await job, want)).toBe(true);
  });

  it.each(['frameToTensor', 'frameToTensorAsync'] as const)('%s: a params getter that transfers the frame away first: refused (coded), never read', (fn) => {
    const frame = makeFrame('rgb8', 32, 24);
    const params = { inputWidth: 16, inputHeight: 16, contentWidth: 16, contentHeight: 12, channelOrder: 'rgb', dtype: 'float32', std: [1, 1, 1] };
    Object.defineProperty(params, 'mean', {
      enumerable: true,
      get() {
        structuredClone(frame.data.buffer, { transfer: [frame.data.buffer as ArrayBuffer] });
        return [0, 0, 0];
      },
    });
    expect(() => native[fn](frame, params as never)).toThrow(expect.objectContaining({ code: 'ERR_FRAME_INVALID', message: expect.stringMatching(/detached/) }));
  });
});

describe('frames and logits on a SharedArrayBuffer', () => {
  const spec = imageSpec(128, 128);
  const sizes: [number, number][] = [
    [64, 48], // inline (sync kernel)
    [1280, 960], // libuv thread
  ];

  it.each(sizes)('%ix%i: frameToTensor, frameToTensorAsync and overlay give the same bytes as on an ArrayBuffer', async (w, h) => {
    const plain = makeFrame('rgb8', w, h);
    const shared: Frame = { ...plain, data: onShared(plain.data) };
    expect(shared.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(sameBytes(kernels.frameToTensor(shared, spec).data, kernels.frameToTensor(plain, spec).data)).toBe(true);
    expect(sameBytes((await kernels.frameToTensorAsync(shared, spec)).data, (await kernels.frameToTensorAsync(plain, spec)).data)).toBe(true);
    const mask = new Uint8Array(w * h).map((_, i) => (i % 7 === 0 ? 255 : 0));
    expect(sameBytes(kernels.overlay(shared, onShared(mask)), kernels.overlay(plain, mask))).toBe(true);
  });

  it.each(sizes)('%ix%i: logitsToMask and logitsToMaskAsync read shared logits', async (w, h) => {
    const logits = makeLogits(32, 32);
    const letterbox = letterboxFor(w, h, 128, 128);
    const want = kernels.logitsToMask(logits, 32, 32, letterbox, w, h, 0);
    for (const got of [kernels.logitsToMask(onShared(logits), 32, 32, letterbox, w, h, 0), await kernels.logitsToMaskAsync(onShared(logits), 32, 32, letterbox, w, h, 0)]) {
      expect(sameBytes(got.mask, want.mask)).toBe(true);
      expect([got.bbox, got.area]).toEqual([want.bbox, want.area]);
    }
  });

  it('the addon called directly with shared bytes: no codeless "Invalid argument"', () => {
    const frame = makeFrame('rgb8', 8, 8);
    const params = { inputWidth: 8, inputHeight: 8, contentWidth: 8, contentHeight: 8, channelOrder: 'rgb' as const, dtype: 'float32' as const, mean: [0, 0, 0], std: [1, 1, 1] };
    expect(native.frameToTensor({ ...frame, data: onShared(frame.data) }, params)).toEqual(native.frameToTensor(frame, params));
    expect(native.rleEncode(onShared(new Uint8Array(64).fill(255)), 8, 8)).toBe(native.rleEncode(new Uint8Array(64).fill(255), 8, 8));
  });
});
