/**
 * Kernel benchmark (`npm run bench -- kernels`): a camera frame -> the
 * bundle's network input, and decoder logits -> a frame-size mask, timed for the native
 * kernels (sync and async), the TS reference, sharp's resize + raw extraction and a memcpy of
 * the same bytes. Candidates run interleaved in rounds and each reports its best round: on a
 * shared CPU the minimum estimates the uncontended cost, where a median mostly measures the
 * neighbours (timeit's advice, for the same reason).
 */
import { availableParallelism } from 'node:os';
import { defaultBundleDir, loadBundle } from '../sdk/model/bundle.js';
import { throwIfAborted } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { frameToTensor, letterboxFor, loadNative, logitsToMask, setKernelThreads, type ImageSpec } from '../sdk/kernels/index.js';
import * as reference from '../sdk/kernels/reference.js';

export interface KernelBenchOptions {
  spec: ImageSpec;
  logitsWidth: number;
  logitsHeight: number;
  frameWidth?: number;
  frameHeight?: number;
  /** Interleaved rounds; each candidate's best round is reported. */
  rounds?: number;
  signal?: AbortSignal;
}

interface Stage {
  nativeMs: number;
  nativeAsyncMs: number;
  tsMs: number;
  memcpyMs: number;
  /** tsMs / nativeMs */
  nativeVsTs: number;
  /** nativeMs / memcpyMs: how many copies of the input bytes the kernel costs */
  vsMemcpy: number;
}

export interface KernelBenchReport {
  /** TS reference time / native time, the lower of preprocess and postprocess (> 1 = native faster). */
  nativeVsTs: number;
  /** sharp resize + raw extraction / native async preprocess (both off the JS thread, awaited; > 1 = native faster). */
  nativeVsSharp: number;
  /** Native preprocess time / memcpy of the frame's bytes. */
  vsMemcpy: number;
  frame: string;
  input: string;
  logits: string;
  rounds: number;
  nativeThreads: number;
  preprocess: Stage & {
    sharpMs: number;
    sharpConcurrency: number;
    nativeVsSharpSync: number;
    /** The native kernel with its rows split over every core (setThreads), vs nativeMs on one. */
    nativeAllCoresMs: number;
    cores: number;
  };
  postprocess: Stage;
}

/** Smooth, textured test frame (a real camera frame is not needed to time a fixed-cost kernel). */
function syntheticFrame(width: number, height: number): Frame {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 3) {
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = ((x ^ y) * 7) & 255;
    }
  }
  return { width, height, encoding: 'rgb8', step: width * 3, data };
}

type Candidate = () => unknown;

/** Runs each candidate `batch` times per round, candidates interleaved; best per-call time in ms. */
async function timeRounds(candidates: Record<string, Candidate>, rounds: number, signal?: AbortSignal): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {};
  const batch: Record<string, number> = {};
  for (const [name, fn] of Object.entries(candidates)) {
    // Warm up, then size batches to about 3 ms each.
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 20 || n < 3) {
      await fn();
      n++;
    }
    batch[name] = Math.max(1, Math.round((3 * n) / (performance.now() - t0)));
    samples[name] = [];
  }
  for (let r = 0; r < rounds; r++) {
    throwIfAborted(signal);
    for (const [name, fn] of Object.entries(candidates)) {
      const t = performance.now();
      for (let i = 0; i < batch[name]; i++) await fn();
      samples[name].push((performance.now() - t) / batch[name]);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.min(...v)]));
}

export async function benchmarkKernels(options: KernelBenchOptions): Promise<KernelBenchReport> {
  const native = loadNative(); // ERR_NATIVE_UNAVAILABLE, with what to do, when it is missing
  const { spec, logitsWidth: lw, logitsHeight: lh, frameWidth: w = 640, frameHeight: h = 480, rounds = 25, signal } = options;
  const frame = syntheticFrame(w, h);
  const lb = letterboxFor(w, h, spec.width, spec.height, spec.letterbox);
  const { default: sharp } = await import('sharp');
  const copyIn = Buffer.from(frame.data);
  const copyOut = Buffer.alloc(copyIn.length);
  const sharpResize = () =>
    sharp(frame.data, { raw: { width: w, height: h, channels: 3 } })
      .resize(lb.contentWidth, lb.contentHeight, { kernel: 'linear', fit: 'fill' })
      .raw()
      .toBuffer();
  const pre = await timeRounds(
    {
      native: () => frameToTensor(frame, spec),
      // the addon's own async call: the wrapper runs small frames inline, this always measures the hop
      nativeAsync: () => native.frameToTensorAsync(frame, { ...lb, channelOrder: spec.channelOrder, dtype: spec.dtype, mean: spec.mean, std: spec.std }),
      ts: () => reference.frameToTensor(frame, spec),
      sharp: sharpResize,
      memcpy: () => copyIn.copy(copyOut),
    },
    rounds,
    signal,
  );

  const cores = availableParallelism();
  const before = setKernelThreads(cores);
  let allCores: Record<string, number>;
  try {
    allCores = await timeRounds({ native: () => frameToTensor(frame, spec) }, rounds, signal);
  } finally {
    setKernelThreads(before);
  }

  const logits = reference.frameToTensor(frame, { ...spec, width: lw, height: lh, dtype: 'float32' }).data as Float32Array;
  const plane = logits.subarray(0, lw * lh); // a smooth single-channel map with both signs
  const maskIn = Buffer.alloc(w * h);
  const maskOut = Buffer.alloc(w * h);
  const post = await timeRounds(
    {
      native: () => logitsToMask(plane, lw, lh, lb, w, h, 0),
      nativeAsync: () => native.logitsToMaskAsync(plane, { logitsWidth: lw, logitsHeight: lh, ...lb, frameWidth: w, frameHeight: h, threshold: 0 }),
      ts: () => reference.logitsToMask(plane, lw, lh, lb, w, h, 0),
      memcpy: () => maskIn.copy(maskOut),
    },
    rounds,
    signal,
  );

  const stage = (t: Record<string, number>): Stage => ({
    nativeMs: t.native,
    nativeAsyncMs: t.nativeAsync,
    tsMs: t.ts,
    memcpyMs: t.memcpy,
    nativeVsTs: t.ts / t.native,
    vsMemcpy: t.native / t.memcpy,
  });
  const preprocess = {
    ...stage(pre),
    sharpMs: pre.sharp,
    sharpConcurrency: sharp.concurrency(),
    nativeVsSharpSync: pre.sharp / pre.native,
    nativeAllCoresMs: allCores.native,
    cores,
  };
  const postprocess = stage(post);
  return {
    nativeVsTs: Math.min(preprocess.nativeVsTs, postprocess.nativeVsTs),
    nativeVsSharp: pre.sharp / pre.nativeAsync,
    vsMemcpy: preprocess.vsMemcpy,
    frame: `${w}x${h} rgb8`,
    input: `${spec.width}x${spec.height} ${spec.dtype} (content ${lb.contentWidth}x${lb.contentHeight})`,
    logits: `${lw}x${lh} -> ${w}x${h} mask`,
    rounds,
    nativeThreads: before,
    preprocess,
    postprocess,
  };
}

/** The embedded bundle's (or `bundleDir`'s) mask image spec and logits size, then the benchmark. */
export async function benchmarkBundleKernels(bundleDir = defaultBundleDir(), options: { rounds?: number; signal?: AbortSignal } = {}): Promise<KernelBenchReport> {
  const { manifest } = await loadBundle(bundleDir, { signal: options.signal });
  const spec = manifest.images.find((i) => i.input === manifest.mask.image) ?? manifest.images[0];
  const out = Object.values(manifest.engines)
    .flatMap((e) => e.outputs)
    .find((o) => o.name === 'mask_logits');
  const [lh, lw] = (out?.shape.slice(-2) ?? [64, 64]).map((d) => (typeof d === 'number' ? d : 64));
  return benchmarkKernels({ spec, logitsWidth: lw, logitsHeight: lh, ...options });
}

export function formatKernelReport(r: KernelBenchReport): string {
  const ms = (v: number) => `${v.toFixed(3)} ms`;
  const x = (v: number) => `${v.toFixed(2)}x`;
  const p = r.preprocess;
  const q = r.postprocess;
  return [
    `kernels: best of ${r.rounds} interleaved rounds, per call, native row threads ${r.nativeThreads}`,
    `preprocess ${r.frame} -> ${r.input}`,
    `  native ${ms(p.nativeMs)}  native async ${ms(p.nativeAsyncMs)}  TS ${ms(p.tsMs)}  sharp resize+raw ${ms(p.sharpMs)} (concurrency ${p.sharpConcurrency})  memcpy ${ms(p.memcpyMs)}`,
    `  native vs TS ${x(p.nativeVsTs)}  native async vs sharp ${x(r.nativeVsSharp)} (sync ${x(p.nativeVsSharpSync)})  = ${x(p.vsMemcpy)} a memcpy of the frame`,
    `  native rows split over ${p.cores} threads ${ms(p.nativeAllCoresMs)} (${x(p.nativeMs / p.nativeAllCoresMs)} the one-thread speed)`,
    `postprocess ${r.logits}`,
    `  native ${ms(q.nativeMs)}  native async ${ms(q.nativeAsyncMs)}  TS ${ms(q.tsMs)}  memcpy ${ms(q.memcpyMs)}`,
    `  native vs TS ${x(q.nativeVsTs)}  = ${x(q.vsMemcpy)} a memcpy of the mask`,
  ].join('\n');
}
