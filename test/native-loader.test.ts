/** The addon loader: the binary loads here (CI builds it); when it cannot load, the SDK falls back to TS silently and loadNative() says what to do. */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { imageSpec, makeFrame } from './fixtures/kernels-frames.js';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('native loader', () => {
  it('loads the addon with the kernels ABI this SDK expects', async () => {
    const { loadNative, KERNELS_ABI } = await import('../sdk/kernels/native.js');
    expect(loadNative().kernelsAbi).toBe(KERNELS_ABI);
  });

  it('a missing binary: TS kernels take over silently, loadNative() throws an actionable ERR_NATIVE_UNAVAILABLE', async () => {
    vi.stubEnv('ANCHORSEG_PREBUILD', '/nonexistent'); // node-gyp-build's <NAME>_PREBUILD: look only there
    vi.resetModules();
    const kernels = await import('../sdk/kernels/index.js');
    expect(kernels.kernelsImplementation).toBe('ts');
    let err: { code?: string; message: string } | undefined;
    try {
      kernels.loadNative();
    } catch (e) {
      err = e as typeof err;
    }
    expect(err?.code).toBe('ERR_NATIVE_UNAVAILABLE');
    const lines = err?.message.split('\n') ?? [];
    expect(lines[0]).toMatch(/^Could not load the anchorseg native kernels for linux-(x64|arm64), Node v\d+/);
    expect(err?.message).toContain('Possible solutions:');
    expect(err?.message).toContain('npm run build:native');
    expect(err?.message).toContain('ANCHORSEG_KERNELS=ts');
    // The fallback computes (the reference kernels are tested against native in kernels-golden).
    const { data } = kernels.frameToTensor(makeFrame('nv12', 33, 17), imageSpec(16, 16));
    expect(data).toHaveLength(3 * 16 * 16);
    expect(kernels.setKernelThreads(4)).toBe(1);
  });

  it('loads in worker threads, and a worker exiting with row threads and async jobs live tears down cleanly', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const k = require(require.resolve('node-gyp-build', { paths: [workerData] }))(workerData);
      k.setThreads(2);
      const frame = { width: 320, height: 240, encoding: 'rgb8', step: 960, data: new Uint8Array(320 * 240 * 3).fill(7) };
      const params = { inputWidth: 64, inputHeight: 64, contentWidth: 64, contentHeight: 48, channelOrder: 'rgb', dtype: 'float32', mean: [0, 0, 0], std: [1, 1, 1] };
      const n = k.frameToTensor(frame, params).length;
      for (let i = 0; i < 4; i++) k.frameToTensorAsync(frame, params); // still queued or running at exit
      parentPort.postMessage(n);
      process.exit(0);`;
    const results = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<{ n: unknown; code: number }>((resolve, reject) => {
            let n: unknown;
            const w = new Worker(code, { eval: true, workerData: root });
            w.on('message', (m) => (n = m));
            w.on('error', reject);
            w.on('exit', (code) => resolve({ n, code }));
          }),
      ),
    );
    expect(results).toEqual([0, 1, 2].map(() => ({ n: 3 * 64 * 64 * 4, code: 0 })));
  });

  it('ANCHORSEG_KERNELS=ts opts out of the addon', async () => {
    vi.stubEnv('ANCHORSEG_KERNELS', 'ts');
    vi.resetModules();
    const kernels = await import('../sdk/kernels/index.js');
    expect(kernels.kernelsImplementation).toBe('ts');
    expect(() => kernels.loadNative()).toThrow(/ANCHORSEG_KERNELS=ts/);
  });
});
