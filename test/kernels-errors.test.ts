/**
 * Bad input to the kernels: coded errors with "expected ... but received ..." messages, never a
 * crash. Through the public API (TS validation, then native or TS), and straight into the addon
 * with values the TS layer would have refused (the C++ checks must hold on their own).
 */
import { describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import * as kernels from '../sdk/kernels/index.js';
import { letterboxFor } from '../sdk/kernels/index.js';
import type { NativeImageParams, NativeLogitsParams } from '../sdk/kernels/native.js';
import * as reference from '../sdk/kernels/reference.js';
import { imageSpec, makeFrame } from './fixtures/kernels-frames.js';

const native = kernels.loadNative();
const spec = imageSpec(64, 64);

function detached(bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  structuredClone(data.buffer, { transfer: [data.buffer] });
  return data;
}

function caught(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a throw');
}

describe('public kernels API refuses bad input with coded errors (native and reference alike)', () => {
  const apis = { dispatch: kernels, reference } as const;
  for (const [name, api] of Object.entries(apis)) {
    it(`${name}: frame data shorter than its header says`, () => {
      const frame = { ...makeFrame('rgb8', 10, 10), data: new Uint8Array(299) };
      expect(caught(() => api.frameToTensor(frame, spec))).toMatchObject({
        code: 'ERR_FRAME_INVALID',
        message: 'Expected at least 300 bytes of data for a 10x10 rgb8 frame with step 30 but received 299',
      });
    });
    it(`${name}: unknown encoding, odd yuyv width, short step, odd nv12 without a UV pair`, () => {
      const f = makeFrame('rgb8', 10, 10);
      expect(caught(() => api.frameToTensor({ ...f, encoding: 'yuv420' } as unknown as Frame, spec)).code).toBe('ERR_FRAME_INVALID');
      expect(caught(() => api.frameToTensor({ ...makeFrame('yuyv', 10, 4), width: 9 }, spec)).message).toMatch(/even width/);
      expect(caught(() => api.frameToTensor({ ...f, step: 29 }, spec)).message).toMatch(/^Expected integer >= 30 .* for frame.step but received 29 of type number$/);
      const nv = { width: 5, height: 3, encoding: 'nv12', step: 5, data: new Uint8Array(25) } as const;
      expect(caught(() => api.frameToTensor(nv, spec))).toMatchObject({ code: 'ERR_FRAME_INVALID', message: expect.stringMatching(/step >= 6 for an nv12 frame of odd width 5/) });
    });
    it(`${name}: a detached buffer`, () => {
      const frame = { ...makeFrame('rgb8', 4, 4), data: detached(48) };
      expect(caught(() => api.frameToTensor(frame, spec))).toMatchObject({ code: 'ERR_FRAME_INVALID', message: expect.stringMatching(/received 0$/) });
    });
    it(`${name}: bad image specs`, () => {
      const f = makeFrame('rgb8', 4, 4);
      expect(caught(() => api.frameToTensor(f, { ...spec, width: -3 }))).toMatchObject({
        code: 'ERR_INVALID_ARG',
        message: 'Expected integer between 1 and 16384 for spec.width but received -3 of type number',
      });
      expect(caught(() => api.frameToTensor(f, { ...spec, std: [1, 0, 1] })).message).toMatch(/^Expected an array of 3 finite numbers > 0 for spec.std/);
      expect(caught(() => api.frameToTensor(f, { ...spec, dtype: 'int8' } as never)).code).toBe('ERR_INVALID_ARG');
    });
    it(`${name}: logits of the wrong size, bad letterbox, NaN threshold`, () => {
      const lb = letterboxFor(8, 6, 16, 16);
      expect(caught(() => api.logitsToMask(new Float32Array(15), 4, 4, lb, 8, 6, 0))).toMatchObject({
        code: 'ERR_INVALID_ARG',
        message: 'Expected 16 values (4x4) for logits but received 15',
      });
      expect(caught(() => api.logitsToMask(new Float32Array(16), 4, 4, { ...lb, contentWidth: 17 }, 8, 6, 0)).message).toMatch(/contentWidth/);
      expect(caught(() => api.logitsToMask(new Float32Array(16), 4, 4, lb, 8, 6, Number.NaN)).code).toBe('ERR_INVALID_ARG');
      expect(caught(() => api.logitsToMask(new Float64Array(16) as never, 4, 4, lb, 8, 6, 0)).code).toBe('ERR_INVALID_ARG');
    });
    it(`${name}: masks of the wrong size, bad colours, bad RLE strings`, () => {
      expect(caught(() => api.rleEncode(new Uint8Array(5), 2, 3))).toMatchObject({ code: 'ERR_INVALID_ARG', message: 'Expected 6 bytes (2x3) for mask but received 5' });
      const f = makeFrame('rgb8', 2, 3);
      expect(caught(() => api.overlay(f, new Uint8Array(6), [0, 256, 0])).message).toMatch(/color/);
      expect(caught(() => api.overlay(f, new Uint8Array(6), [0, 0, 0], 2)).message).toMatch(/alpha/);
      expect(caught(() => api.rleDecode({ size: [2, 2], counts: '5' }))).toMatchObject({ code: 'ERR_INVALID_ARG' });
      expect(caught(() => api.rleDecode({ size: [2, -2], counts: '4' })).code).toBe('ERR_INVALID_ARG');
    });
  }

  it.each(['5', '02M', 'p', '0\x7f', 'é', 'ooooooo', '3', '0'.repeat(30), '1O'])('RLE counts %j: native and reference throw the same message', (counts) => {
    const a = caught(() => reference.rleDecode({ size: [2, 2], counts }));
    const b = caught(() => native.rleDecode(counts, 2, 2));
    expect(a.code).toBe('ERR_INVALID_ARG');
    expect(b).toMatchObject({ code: 'ERR_INVALID_ARG', message: a.message });
  });
});

describe('the addon checks what it reads, without the TS layer', () => {
  const frame = makeFrame('rgb8', 8, 6);
  const params: NativeImageParams = { inputWidth: 16, inputHeight: 16, contentWidth: 16, contentHeight: 12, channelOrder: 'rgb', dtype: 'float32', mean: [0, 0, 0], std: [1, 1, 1] };
  const cases: [string, () => unknown, string][] = [
    ['no frame', () => native.frameToTensor(undefined as never, params), 'ERR_FRAME_INVALID'],
    ['width as a string', () => native.frameToTensor({ ...frame, width: '8' } as never, params), 'ERR_FRAME_INVALID'],
    ['fractional height', () => native.frameToTensor({ ...frame, height: 5.5 }, params), 'ERR_FRAME_INVALID'],
    ['huge width', () => native.frameToTensor({ ...frame, width: 1e9 }, params), 'ERR_FRAME_INVALID'],
    ['negative step', () => native.frameToTensor({ ...frame, step: -1 }, params), 'ERR_FRAME_INVALID'],
    ['step past the data', () => native.frameToTensor({ ...frame, step: 1 << 30 }, params), 'ERR_FRAME_INVALID'],
    ['data as Float32Array', () => native.frameToTensor({ ...frame, data: new Float32Array(144) as never }, params), 'ERR_FRAME_INVALID'],
    ['detached data', () => native.frameToTensor({ ...frame, data: detached(144) }, params), 'ERR_FRAME_INVALID'],
    ['unknown encoding', () => native.frameToTensor({ ...frame, encoding: 'rgb16' as never }, params), 'ERR_FRAME_INVALID'],
    ['content wider than the input', () => native.frameToTensor(frame, { ...params, contentWidth: 17 }), 'ERR_INVALID_ARG'],
    ['zero std', () => native.frameToTensor(frame, { ...params, std: [1, 0, 1] }), 'ERR_INVALID_ARG'],
    ['two means', () => native.frameToTensor(frame, { ...params, mean: [0, 0] }), 'ERR_INVALID_ARG'],
    ['no params', () => native.frameToTensor(frame, null as never), 'ERR_INVALID_ARG'],
    ['bad dtype', () => native.frameToTensor(frame, { ...params, dtype: 'uint8' as never }), 'ERR_INVALID_ARG'],
  ];
  const lp: NativeLogitsParams = { logitsWidth: 4, logitsHeight: 4, contentWidth: 16, contentHeight: 12, inputWidth: 16, inputHeight: 16, frameWidth: 8, frameHeight: 6, threshold: 0 };
  cases.push(
    ['logits too short', () => native.logitsToMask(new Float32Array(15), lp), 'ERR_INVALID_ARG'],
    ['logits as Uint8Array', () => native.logitsToMask(new Uint8Array(16) as never, lp), 'ERR_INVALID_ARG'],
    ['zero frame width', () => native.logitsToMask(new Float32Array(16), { ...lp, frameWidth: 0 }), 'ERR_INVALID_ARG'],
    ['content taller than the input', () => native.logitsToMask(new Float32Array(16), { ...lp, contentHeight: 17 }), 'ERR_INVALID_ARG'],
    ['NaN threshold', () => native.logitsToMask(new Float32Array(16), { ...lp, threshold: Number.NaN }), 'ERR_INVALID_ARG'],
    ['mask size mismatch (RLE)', () => native.rleEncode(new Uint8Array(5), 2, 3), 'ERR_INVALID_ARG'],
    ['negative RLE size', () => native.rleDecode('1', -1, 1), 'ERR_INVALID_ARG'],
    ['RLE counts not a string', () => native.rleDecode(5 as never, 1, 1), 'ERR_INVALID_ARG'],
    ['overlay mask too short', () => native.overlay(frame, new Uint8Array(47), [0, 0, 0], 0.5), 'ERR_INVALID_ARG'],
    ['overlay colour out of range', () => native.overlay(frame, new Uint8Array(48), [0, 0, 300], 0.5), 'ERR_INVALID_ARG'],
    ['overlay alpha NaN', () => native.overlay(frame, new Uint8Array(48), [0, 0, 0], Number.NaN), 'ERR_INVALID_ARG'],
    ['zero threads', () => native.setThreads(0), 'ERR_INVALID_ARG'],
  );
  it.each(cases)('%s', (_name, fn, code) => {
    const err = caught(fn);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(/^Expected /);
  });

  it('async variants reject (not throw asynchronously later) on bad input', async () => {
    expect(() => native.frameToTensorAsync({ ...frame, data: detached(144) }, params)).toThrow(/detached/);
    expect(() => native.logitsToMaskAsync(new Float32Array(3), lp)).toThrow(/logits/);
    await expect(kernels.frameToTensorAsync({ ...frame, width: 0 }, spec)).rejects.toMatchObject({ code: 'ERR_FRAME_INVALID' });
  });

  it('a frame transferred away while an async job reads it: the job reads its own copy, the process survives', async () => {
    const big = makeFrame('rgb8', 1280, 960);
    const job = kernels.frameToTensorAsync(big, spec);
    const moved = structuredClone(big.data.buffer, { transfer: [big.data.buffer as ArrayBuffer] });
    const outcome = await job.then(
      (r) => r.data.length,
      (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
    );
    expect(outcome).toBe(3 * 64 * 64);
    expect(moved.byteLength).toBe(1280 * 960 * 3);
  });
});
