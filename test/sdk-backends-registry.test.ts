/**
 * Backends: the registry's priority and fall-through (with stand-in backends, to isolate that
 * logic), then the real onnx backend: worker-thread engines, session metadata, ERR_BUSY, close.
 */
import { describe, expect, it } from 'vitest';
import { listBackends, registerBackend, resolveBackend, type Backend, type EngineOptions } from '../sdk/backends/index.js';
import { loadBundle } from '../sdk/model/bundle.js';
import { Segmenter } from '../sdk/segmenter.js';
import { frameToTensor } from '../sdk/kernels/index.js';
import type { Tensor } from '../sdk/backends/tensor.js';
import { Tokenizer } from '../sdk/model/tokenizer.js';
import { BUNDLE, expectCode } from './fixtures/sdk-helpers.js';

function standIn(initError?: string): Backend & { inits: number } {
  const b = {
    inits: 0,
    async init() {
      b.inits++;
      if (initError) throw new Error(initError);
    },
    createEngine: () => Promise.reject(new Error('stand-in backends load nothing')),
    describe: () => ({}),
  };
  return b;
}

describe('backend registry', () => {
  it('has the onnx backend registered', () => {
    expect(listBackends().map((b) => b.name)).toContain('onnx');
  });

  it('prefers higher priority, falls through failures, initialises each backend once', async () => {
    const broken = standIn('no GPU here');
    registerBackend('test-broken', broken, 100);
    const ok = standIn();
    registerBackend('test-ok', ok, 50);
    expect((await resolveBackend()).name).toBe('test-ok');
    expect((await resolveBackend(['test-broken', 'test-ok'])).name).toBe('test-ok');
    expect(broken.inits).toBe(1);
    expect(ok.inits).toBe(1);
    expect((await resolveBackend('onnx')).name).toBe('onnx');
  });

  it('reports every backend failure when none works', async () => {
    registerBackend('test-broken-2', standIn('driver missing'), 1);
    const err = await expectCode(resolveBackend(['test-broken', 'nope', 'test-broken-2']), 'ERR_BACKEND_UNAVAILABLE');
    expect(err.message).toMatch(/test-broken: no GPU here; nope: not registered \(registered: .*onnx.*\); test-broken-2: driver missing/);
  });

  it('refuses bad hints and registrations with ERR_INVALID_ARG', async () => {
    await expectCode(resolveBackend([]), 'ERR_INVALID_ARG');
    await expectCode(resolveBackend(3 as never), 'ERR_INVALID_ARG');
    await expectCode(() => registerBackend('', standIn(), 1), 'ERR_INVALID_ARG');
    await expectCode(() => registerBackend('x', {} as Backend, 1), 'ERR_INVALID_ARG');
    await expectCode(() => registerBackend('x', standIn(), Number.NaN), 'ERR_INVALID_ARG');
  });

  it('Segmenter.open names the backends that failed', async () => {
    const err = await expectCode(Segmenter.open(undefined, { backend: ['test-broken'] }), 'ERR_BACKEND_UNAVAILABLE');
    expect(err.message).toContain('no GPU here');
  });
});

describe('onnx backend', () => {
  it('runs engines on worker threads: metadata, outputs, ERR_BUSY for a second run, close waits', async () => {
    const bundle = await loadBundle(BUNDLE);
    const { backend } = await resolveBackend('onnx');
    const vision = await backend.createEngine(bundle.engines.vision, { threads: 1 });
    const spec = bundle.manifest.engines.vision;
    expect(vision.inputs).toEqual(spec.inputs);
    expect(vision.outputs).toEqual(spec.outputs);
    const [, , h, w] = spec.inputs[0].shape as number[];
    const feeds = (): Record<string, Tensor> => ({ pixels: { dtype: 'float32', dims: [1, 3, h, w], data: new Float32Array(3 * h * w).fill(0.5) } });
    const kept = feeds();
    const first = vision.run(kept);
    await expectCode(vision.run(feeds()), 'ERR_BUSY');
    const out = await first;
    expect(kept.pixels.data.length).toBe(3 * h * w); // not transferred: still usable
    for (const o of spec.outputs) {
      expect(out[o.name].dims).toEqual(o.shape);
      expect(out[o.name].data.length).toBe((o.shape as number[]).reduce((a, b) => a * b, 1));
    }
    const given = feeds();
    const again = await vision.run(given, { transfer: ['pixels'] });
    expect(given.pixels.data.length).toBe(0); // handed to the worker, not copied
    expect([...(again.image_tokens.data as Float32Array)]).toEqual([...(out.image_tokens.data as Float32Array)]);
    const pending = vision.run(feeds());
    await vision.close(); // waits for the run in flight
    await expect(pending).resolves.toBeDefined();
    await expectCode(vision.run(feeds()), 'ERR_DISPOSED');
  });

  it('reports an inference error from the worker as ERR_INFERENCE and keeps working', async () => {
    const bundle = await loadBundle(BUNDLE);
    const { backend } = await resolveBackend('onnx');
    const vision = await backend.createEngine(bundle.engines.vision, {});
    await expectCode(vision.run({ pixels: { dtype: 'float32', dims: [1, 3, 2, 2], data: new Float32Array(12) } }), 'ERR_INFERENCE');
    const [, , h, w] = bundle.manifest.engines.vision.inputs[0].shape as number[];
    await expect(vision.run({ pixels: { dtype: 'float32', dims: [1, 3, h, w], data: new Float32Array(3 * h * w) } })).resolves.toBeDefined();
    await vision.close();
  });

  it('aborts engine creation with ERR_ABORTED', async () => {
    const bundle = await loadBundle(BUNDLE);
    const { backend } = await resolveBackend('onnx');
    const controller = new AbortController();
    const creating = backend.createEngine(bundle.engines.decoder, { signal: controller.signal });
    controller.abort(new Error('changed my mind'));
    expect((await expectCode(creating, 'ERR_ABORTED')).message).toContain('changed my mind');
  });
});

describe('onnx engine set (one worker for a pipeline)', () => {
  const frame = () => {
    const data = new Uint8Array(160 * 120 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
    return { width: 160, height: 120, encoding: 'rgb8' as const, step: 480, data };
  };

  it('runs a chain in one hand-off with the outputs of engine-by-engine runs; each engine is busy meanwhile', async () => {
    const bundle = await loadBundle(BUNDLE);
    const { backend } = await resolveBackend('onnx');
    const files = [bundle.engines.vision, bundle.engines.reasoner, bundle.engines.decoder];
    const set = await backend.createEngineSet!(files, { threads: 1 });
    try {
      const spec = bundle.manifest.images[0];
      const feeds: Record<string, Tensor> = {
        ...Tokenizer.forBundle(bundle).tensors(Tokenizer.forBundle(bundle).tokenize('the red cup')),
        [spec.input]: { dtype: spec.dtype, dims: [1, 3, spec.height, spec.width], data: frameToTensor(frame(), spec).data },
      };
      const chained = set.runChain([0, 1, 2], feeds);
      await expectCode(set.engines[1].run(feeds), 'ERR_BUSY');
      const { outputs, ms } = await chained;
      expect(ms).toHaveLength(3);
      expect(ms.every((t) => t > 0)).toBe(true);
      const v = await set.engines[0].run(feeds);
      const r = await set.engines[1].run({ ...feeds, ...v });
      const d = await set.engines[2].run({ ...feeds, ...v, ...r });
      for (const [i, step] of [v, r, d].entries()) {
        for (const [name, t] of Object.entries(step)) expect([...outputs[i][name].data]).toEqual([...t.data]);
      }
      const err = await expectCode(set.runChain([0, 1, 2], { ...feeds, pixels: { dtype: 'float32', dims: [1, 3, 2, 2], data: new Float32Array(12) } }), 'ERR_INFERENCE');
      expect(err.message).toContain('vision.onnx');
      const kept = await set.runChain([0, 1, 2], feeds, { keep: ['score'] });
      expect(kept.outputs.map((o) => Object.keys(o))).toEqual([[], [], ['score']]);
      expect([...kept.outputs[2].score.data]).toEqual([...d.score.data]);
      await expectCode(set.runChain([0, 7], feeds), 'ERR_INVALID_ARG');
      await expect(set.runChain([0], feeds)).resolves.toBeDefined(); // still works, nothing left claimed
    } finally {
      await set.close();
    }
    await expectCode(set.engines[0].run({}), 'ERR_DISPOSED');
  });

  it('a backend without engine sets (one engine at a time) gives segment() the same answer', async () => {
    const { backend: onnx } = await resolveBackend('onnx');
    const given: EngineOptions[] = [];
    const createEngine = (f: string, o: EngineOptions) => {
      given.push(o);
      return onnx.createEngine(f, o);
    };
    registerBackend('onnx-per-engine', { init: () => onnx.init(), createEngine, describe: () => onnx.describe() }, -1);
    const perEngine = await Segmenter.open(BUNDLE, { backend: 'onnx-per-engine', threads: 1 });
    const chained = await Segmenter.open(BUNDLE, { backend: 'onnx', threads: 1 });
    try {
      const a = await perEngine.segment(frame(), 'the red cup');
      const b = await chained.segment(frame(), 'the red cup');
      expect(Buffer.from(a.mask).equals(Buffer.from(b.mask))).toBe(true);
      expect(a.score).toBe(b.score);
      expect([...a.tokenMap.data]).toEqual([...b.tokenMap.data]);
      // the goal-length bound a shape-range build (TensorRT) needs: the bundle's, not a default
      expect(given.map((o) => o.dynamicMax)).toEqual([40, 40, 40]);
    } finally {
      await perEngine.close();
      await chained.close();
    }
  });
});
