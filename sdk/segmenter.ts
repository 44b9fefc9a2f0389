import { performance } from 'node:perf_hooks';
import { anchorPoint } from './model/anchor.js';
import { resolveBackend, type Backend, type Engine, type EngineOptions, type EngineSet } from './backends/index.js';
import { checkEngineIO, defaultBundleDir, loadBundle, type Bundle } from './model/bundle.js';
import { AnchorSegError, describe, disposedError, invalidArg, throwIfAborted } from './base/errors.js';
import { validateFrame, type Frame } from './base/frame.js';
import { frameToTensorAsync, logitsToMaskAsync, type Letterbox } from './kernels/index.js';
import { Lane, abortable } from './base/lane.js';
import { ENGINE_NAMES, type EngineName, type Manifest } from './model/manifest.js';
import { notFoundReason, type SegmentResult } from './model/result.js';
import { toFloat32, type Tensor } from './backends/tensor.js';
import { Tokenizer, type Goal } from './model/tokenizer.js';
import type { FrameSource } from './stream/intake.js';
import { SegmentStream, type StreamOptions } from './stream/stream.js';
import type { CallOptions, ImageState, QueryBank } from './model/states.js';

export type { CallOptions, ImageState, QueryBank };

export interface OpenOptions {
  /** Backend name or preference list, as an array or comma-separated (default: every registered backend, highest priority first). */
  backend?: string | string[];
  /** Operator threads per engine (default: the backend's choice). */
  threads?: number;
  /**
   * Most segment() calls pending at once, the running ones included (default DEFAULT_MAX_QUEUE,
   * 16; `Infinity`: no limit). One more is refused at once with ERR_BUSY instead of waiting: a
   * caller faster than inference would otherwise grow memory without bound (each pending call
   * holds its frame and goal). The stage methods (encodeImage, reason, decode) are not counted.
   */
  maxQueue?: number;
  signal?: AbortSignal;
}

const MAX_THREADS = 256;
/** OpenOptions.maxQueue when not given: pending segment() calls. */
export const DEFAULT_MAX_QUEUE = 16;
/** The tensors a SegmentResult is made from (docs/bundle-format.md names them; any engine may produce them). */
const RESULT_TENSORS = ['mask_logits', 'token_map', 'score'] as const;

/** A frame as the bundle's image inputs, and which of them the vision engine may take over. */
interface Preprocessed {
  /** The frame's header as it was when the call was made (the caller may change its object meanwhile). */
  frame: Frame;
  images: Map<string, Tensor>;
  letterboxes: Map<string, Letterbox>;
  transfer: string[];
  ms: number;
}

/**
 * Reasoning segmentation on one model bundle: `segment(frame, goal)` gives the goal's pixel mask.
 *
 * The three engines (vision, reasoner, decoder) each run one inference at a time off the event
 * loop; calls that need a busy engine wait their turn. The stage methods `encodeImage`,
 * `reason` and `decode` let a caller reuse a query bank across frames (dual-rate).
 */
export class Segmenter {
  readonly #bundle: Bundle;
  readonly #backend: string;
  readonly #engines: Record<EngineName, Engine>;
  /** The engines as one set when the backend offers it: segment() is then one hand-off. */
  readonly #set: EngineSet | undefined;
  readonly #lanes: Record<EngineName, Lane>;
  readonly #tokenizer: Tokenizer;
  readonly #functionWords: ReadonlySet<string>;
  /** Preprocessed images that an engine after vision reads; the rest are handed to the vision worker. */
  readonly #keepImages: Set<string>;
  readonly #images = new WeakSet<ImageState>();
  /** Each bank's source image, weakly: a bank reused for many frames must not keep its first frame's tensors alive. */
  readonly #banks = new WeakMap<QueryBank, WeakRef<ImageState>>();
  #closing: Promise<void> | undefined;
  readonly #active = new Set<Promise<unknown>>();
  #stream: SegmentStream | undefined;
  /** The goal setGoal() last set: streams opened without a `goal` option start with it. */
  #goal: Goal | undefined;
  readonly #maxQueue: number;
  /** segment() calls accepted and not yet settled. */
  #queued = 0;

  private constructor(bundle: Bundle, backend: string, engines: Record<EngineName, Engine>, set: EngineSet | undefined, maxQueue: number) {
    this.#maxQueue = maxQueue;
    this.#bundle = bundle;
    this.#backend = backend;
    this.#engines = engines;
    this.#set = set;
    this.#lanes = { vision: new Lane('vision'), reasoner: new Lane('reasoner'), decoder: new Lane('decoder') };
    this.#tokenizer = Tokenizer.forBundle(bundle);
    this.#functionWords = new Set(bundle.manifest.tokenizer.functionWords);
    const inputs = (name: EngineName) => bundle.manifest.engines[name].inputs;
    const later = new Set([...inputs('reasoner'), ...inputs('decoder')].map((i) => i.name));
    this.#keepImages = new Set(bundle.manifest.images.map((i) => i.input).filter((n) => later.has(n)));
  }

  /**
   * Loads and verifies a bundle (default: the embedded anchorseg-tiny) and starts its engines on
   * the first backend that works. Refuses a bundle it cannot verify with an ERR_BUNDLE_* error.
   */
  static async open(bundleDir?: string, options: OpenOptions = {}): Promise<Segmenter> {
    if (bundleDir !== undefined && (typeof bundleDir !== 'string' || bundleDir.length === 0)) throw invalidArg('bundleDir', 'a path string or undefined', bundleDir);
    const { backend, threads, signal, maxQueue = DEFAULT_MAX_QUEUE } = checkOptions(options, ['backend', 'threads', 'maxQueue', 'signal']) as OpenOptions;
    if (threads !== undefined && (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)) {
      throw invalidArg('options.threads', `integer between 1 and ${MAX_THREADS}`, threads);
    }
    if (typeof maxQueue !== 'number' || !(maxQueue === Infinity || (Number.isInteger(maxQueue) && maxQueue >= 1))) {
      throw invalidArg('options.maxQueue', 'an integer >= 1 or Infinity', maxQueue);
    }
    throwIfAborted(signal);
    const resolved = await resolveBackend(backend);
    const bundle = await loadBundle(bundleDir ?? defaultBundleDir(), { signal });
    const { engines, set } = await createEngines(resolved.backend, bundle, { threads, signal, dynamicMax: bundle.manifest.tokenizer.maxTokens });
    try {
      // An abort that came as the engines finished loading still rejects (and closes them).
      throwIfAborted(signal);
      for (const name of ENGINE_NAMES) checkEngineIO(name, bundle.manifest.engines[name], bundle.engines[name], engines[name]);
    } catch (err) {
      await closeEngines(engines, set);
      throw err;
    }
    return new Segmenter(bundle, resolved.name, engines, set, maxQueue);
  }

  /** The verified manifest of the loaded bundle. */
  get manifest(): Manifest {
    return this.#bundle.manifest;
  }

  get bundleDir(): string {
    return this.#bundle.dir;
  }

  /** The backend the engines run on (e.g. `onnx`). */
  get backend(): string {
    return this.#backend;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The goal mask for one frame: encodeImage + reason + decode. */
  segment(frame: Frame, goal: string, options: CallOptions = {}): Promise<SegmentResult> {
    return this.#call(options, true, async (signal) => {
      const understood = this.#tokenizer.tokenize(goal); // a bad goal fails before any engine runs
      if (this.#set) return this.#segmentChained(this.#set, frame, understood, signal);
      const image = await this.#encodeImage(frame, signal);
      const bank = await this.#reason(image, understood, signal);
      return this.#decode(image, bank, signal);
    });
  }

  /** The goal as the bundle's tokenizer reads it; throws ERR_GOAL_* for an unusable goal. */
  tokenize(goal: string): Goal {
    if (this.#closing) throw disposedError('Segmenter');
    return this.#tokenizer.tokenize(goal);
  }

  /** Preprocessing and the vision engine for one frame (advanced API). */
  encodeImage(frame: Frame, options: CallOptions = {}): Promise<ImageState> {
    return this.#call(options, false, (signal) => this.#encodeImage(frame, signal));
  }

  /** The reasoner: a query bank for `goal` on this image (advanced API). */
  reason(image: ImageState, goal: Goal | string, options: CallOptions = {}): Promise<QueryBank> {
    return this.#call(options, false, (signal) => {
      this.#checkImage(image);
      const text = typeof goal === 'object' && goal !== null && 'text' in goal ? goal.text : goal;
      return this.#reason(image, this.#tokenizer.tokenize(text), signal);
    });
  }

  /** The decoder and postprocessing: the mask for `image` under `bank` (advanced API). */
  decode(image: ImageState, bank: QueryBank, options: CallOptions = {}): Promise<SegmentResult> {
    return this.#call(options, false, async (signal) => {
      this.#checkImage(image);
      if (!this.#banks.has(bank)) throw invalidArg('bank', 'a QueryBank made by reason() of this Segmenter', bank);
      return this.#decode(image, await this.#bankFor(image, bank, signal), signal);
    });
  }

  /**
   * The bank to decode `image` with. Where the decoder reads the reasoner's image states
   * (`imageStates: "reasoner"`, the reference's cut) they belong to the frame the bank was made on,
   * and applying them to another frame's mask features would place a stale map; so a bank from
   * another frame is remade on this one for the same goal (reuse then costs a reasoner run per frame,
   * and timings.reasoner shows it; docs/full-size.md).
   */
  async #bankFor(image: ImageState, bank: QueryBank, signal: AbortSignal | undefined): Promise<QueryBank> {
    if (this.#bundle.manifest.model.imageStates !== 'reasoner' || this.#banks.get(bank)?.deref() === image) return bank;
    return this.#reason(image, bank.goal, signal);
  }

  /**
   * Segments a stream of frames while the goal may change (docs/streaming.md): latest frame wins
   * by default, the reasoner runs at goal changes and by policy. One open stream per Segmenter:
   * opening another before it is closed gets ERR_BUSY.
   */
  stream(source: FrameSource, options?: StreamOptions): SegmentStream {
    if (this.#closing) throw disposedError('Segmenter');
    if (this.#stream && !this.#stream.closed) throw new AnchorSegError('ERR_BUSY', 'Expected at most one open stream per Segmenter but one is open (close it first)');
    this.#stream = new SegmentStream(this, source, options, this.#goal);
    return this.#stream;
  }

  /** Sets the goal of the open stream, and of streams opened later without a `goal` option. */
  setGoal(text: string): void {
    this.#goal = this.tokenize(text);
    if (this.#stream && !this.#stream.closed) this.#stream.setGoal(text);
  }

  /** Ends the open stream, refuses new calls, lets calls in progress finish, then stops the engines. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#stream?.close();
      await Promise.allSettled(this.#active);
      await Promise.all(ENGINE_NAMES.map((n) => this.#lanes[n].close()));
      await closeEngines(this.#engines, this.#set);
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * A public call: options checked, refused once closing, tracked so close() can wait for it.
   * `queued` calls (segment) count against maxQueue: past it they are refused with ERR_BUSY.
   */
  #call<T>(options: CallOptions, queued: boolean, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    let work: Promise<T>;
    try {
      const { signal } = checkOptions(options, ['signal']) as CallOptions;
      if (this.#closing) throw disposedError('Segmenter');
      throwIfAborted(signal);
      if (queued && this.#queued >= this.#maxQueue) {
        throw new AnchorSegError(
          'ERR_BUSY',
          `Expected at most ${this.#maxQueue} pending segment() calls (OpenOptions.maxQueue) but ${this.#queued} are pending; wait for one to settle, or open with a larger maxQueue`,
        );
      }
      work = fn(signal);
    } catch (err) {
      return Promise.reject(err);
    }
    if (queued) this.#queued++;
    this.#active.add(work);
    const untrack = () => {
      this.#active.delete(work);
      if (queued) this.#queued--;
    };
    work.then(untrack, untrack);
    return work;
  }

  /**
   * segment() in one hand-off: the three engines back to back on the set's thread. Only the
   * result's tensors come back; this call's image state and bank are never seen by the caller.
   */
  async #segmentChained(set: EngineSet, frame: Frame, goal: Goal, signal: AbortSignal | undefined): Promise<SegmentResult> {
    const pre = await this.#preprocess(frame);
    const goalTensors = Object.entries(this.#tokenizer.tensors(goal));
    await this.#acquireAll(signal);
    const t0 = performance.now();
    const work = set.runChain([0, 1, 2], Object.fromEntries([...pre.images, ...goalTensors]), { transfer: pre.transfer, keep: RESULT_TENSORS }).finally(() => {
      for (const name of ENGINE_NAMES) this.#lanes[name].release();
    });
    const { outputs, ms } = await abortable(work, signal);
    // The hand-off to the engines' thread and back is counted in the vision stage.
    const handOff = performance.now() - t0 - ms[0] - ms[1] - ms[2];
    const image = this.#imageState(pre, outputs[0], ms[0] + handOff);
    return this.#finish(image, this.#bankState(image, goal, goalTensors, outputs[1], ms[1]), outputs[2], ms[2]);
  }

  /** Every engine's lane, in ENGINE_NAMES order (one order for everyone: no deadlock). */
  async #acquireAll(signal: AbortSignal | undefined): Promise<void> {
    const held: Lane[] = [];
    try {
      for (const name of ENGINE_NAMES) {
        await this.#lanes[name].acquire(signal);
        held.push(this.#lanes[name]);
      }
    } catch (err) {
      for (const lane of held) lane.release();
      throw err;
    }
  }

  /**
   * Validation and the image kernels for one frame. A failure here belongs to the frame, never to
   * the engines: one without a code of ours (a TypeError from a buffer that only looks like a
   * Uint8Array) becomes ERR_FRAME_INVALID, so a stream skips the frame instead of ending.
   */
  async #preprocess(given: Frame): Promise<Preprocessed> {
    try {
      return await this.#preprocessFrame(given);
    } catch (err) {
      if (err instanceof AnchorSegError) throw err;
      const what = err instanceof Error ? `${err.name}: ${err.message}` : describe(err);
      throw new AnchorSegError('ERR_FRAME_INVALID', `Expected a frame the preprocessing can read but it failed with ${what}`, { cause: err });
    }
  }

  async #preprocessFrame(given: Frame): Promise<Preprocessed> {
    const frame = { ...validateFrame(given) };
    const t0 = performance.now();
    const images = new Map<string, Tensor>();
    const letterboxes = new Map<string, Letterbox>();
    // Every image starts before the first await: the kernels copy the frame's bytes when called,
    // so a caller may reuse or transfer the frame's buffer as soon as segment() returns.
    const specs = this.#bundle.manifest.images;
    const tensors = await Promise.all(specs.map((spec) => frameToTensorAsync(frame, spec)));
    specs.forEach((spec, i) => {
      const { data, letterbox } = tensors[i];
      images.set(spec.input, { dtype: spec.dtype, dims: [1, 3, spec.height, spec.width], data });
      letterboxes.set(spec.input, letterbox);
    });
    const transfer = [...images.keys()].filter((n) => !this.#keepImages.has(n));
    return { frame, images, letterboxes, transfer, ms: performance.now() - t0 };
  }

  async #encodeImage(frame: Frame, signal: AbortSignal | undefined): Promise<ImageState> {
    const pre = await this.#preprocess(frame);
    const { outputs, ms } = await this.#run('vision', pre.images, pre.transfer, signal);
    return this.#imageState(pre, outputs, ms);
  }

  #imageState(pre: Preprocessed, outputs: Record<string, Tensor>, ms: number): ImageState {
    const { frame } = pre;
    const tensors = new Map(Object.entries(outputs));
    for (const name of this.#keepImages) tensors.set(name, pre.images.get(name)!);
    const state: ImageState = {
      width: frame.width,
      height: frame.height,
      ...(frame.stamp && { stamp: frame.stamp }),
      ...(frame.frameId !== undefined && { frameId: frame.frameId }),
      tensors,
      letterboxes: pre.letterboxes,
      timings: { preprocess: pre.ms, vision: ms },
    };
    this.#images.add(state);
    return state;
  }

  async #reason(image: ImageState, goal: Goal, signal: AbortSignal | undefined): Promise<QueryBank> {
    const goalTensors = Object.entries(this.#tokenizer.tensors(goal));
    const { outputs, ms } = await this.#run('reasoner', new Map([...image.tensors, ...goalTensors]), [], signal);
    return this.#bankState(image, goal, goalTensors, outputs, ms);
  }

  #bankState(image: ImageState, goal: Goal, goalTensors: [string, Tensor][], outputs: Record<string, Tensor>, ms: number): QueryBank {
    const bank: QueryBank = {
      goal,
      createdAt: Date.now(),
      tensors: new Map([...goalTensors, ...Object.entries(outputs)]),
      timings: { reasoner: ms },
    };
    this.#banks.set(bank, new WeakRef(image));
    return bank;
  }

  async #decode(image: ImageState, bank: QueryBank, signal: AbortSignal | undefined): Promise<SegmentResult> {
    const { outputs, ms } = await this.#run('decoder', new Map([...image.tensors, ...bank.tensors]), [], signal);
    return this.#finish(image, bank, outputs, ms);
  }

  /** Postprocessing: decoder outputs -> the frame's mask and what goes with it. */
  async #finish(image: ImageState, bank: QueryBank, outputs: Record<string, Tensor>, ms: number): Promise<SegmentResult> {
    const t0 = performance.now();
    const m = this.#bundle.manifest;
    const find = (name: (typeof RESULT_TENSORS)[number]): Tensor => outputs[name] ?? bank.tensors.get(name) ?? image.tensors.get(name)!;
    const logits = find('mask_logits');
    const [lh, lw] = logits.dims.slice(-2);
    const letterbox = image.letterboxes.get(m.mask.image)!;
    const mask = await logitsToMaskAsync(toFloat32(logits), lw, lh, letterbox, image.width, image.height, m.mask.threshold);
    const tokenMap = toFloat32(find('token_map'));
    const grid = find('token_map').dims.at(-1)!;
    const score = toFloat32(find('score'))[0];
    const reason = notFoundReason(bank.goal, score, m.score.threshold, this.#functionWords);
    const postprocess = performance.now() - t0;
    const timings = {
      preprocess: image.timings.preprocess,
      vision: image.timings.vision,
      reasoner: this.#banks.get(bank)?.deref() === image ? bank.timings.reasoner : 0,
      decoder: ms,
      postprocess,
      total: 0,
    };
    timings.total = timings.preprocess + timings.vision + timings.reasoner + timings.decoder + timings.postprocess;
    return {
      mask: mask.mask,
      width: image.width,
      height: image.height,
      score,
      found: reason === null,
      notFoundReason: reason,
      bbox: mask.bbox,
      area: mask.area,
      anchor: anchorPoint(tokenMap, grid, letterbox, image.width, image.height),
      tokenMap: { grid, data: tokenMap },
      timings,
      goal: bank.goal,
      ...(image.stamp && { stamp: image.stamp }),
      ...(image.frameId !== undefined && { frameId: image.frameId }),
    };
  }

  /** One engine run in its lane: waits for the engine, feeds it by input name, measures it. */
  async #run(name: EngineName, pool: ReadonlyMap<string, Tensor>, transfer: readonly string[], signal: AbortSignal | undefined): Promise<{ outputs: Record<string, Tensor>; ms: number }> {
    const lane = this.#lanes[name];
    await lane.acquire(signal);
    const feeds = Object.fromEntries(this.#bundle.manifest.engines[name].inputs.map((i) => [i.name, pool.get(i.name)!]));
    const t0 = performance.now();
    const work = this.#engines[name].run(feeds, { transfer }).finally(() => lane.release());
    const outputs = await abortable(work, signal);
    return { outputs, ms: performance.now() - t0 };
  }

  #checkImage(image: ImageState): void {
    if (!this.#images.has(image)) throw invalidArg('image', 'an ImageState made by encodeImage() of this Segmenter', image);
  }
}

/** Validates an options bag: an object (or undefined) with known keys; `signal` must be an AbortSignal. */
function checkOptions(options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidArg('options', 'an object', options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw new AnchorSegError('ERR_INVALID_ARG', `Expected options among ${known.join(', ')} but received unknown option "${key}" (${describe(o[key])})`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw invalidArg('options.signal', 'an AbortSignal', o.signal);
  return o;
}

/** The bundle's engines: as one set when the backend offers it, else one by one. */
async function createEngines(backend: Backend, bundle: Bundle, options: EngineOptions): Promise<{ engines: Record<EngineName, Engine>; set?: EngineSet }> {
  const files = ENGINE_NAMES.map((n) => bundle.engines[n]);
  if (backend.createEngineSet) {
    const set = await backend.createEngineSet(files, options);
    return { engines: Object.fromEntries(ENGINE_NAMES.map((n, i) => [n, set.engines[i]])) as Record<EngineName, Engine>, set };
  }
  const settled = await Promise.allSettled(files.map((file) => backend.createEngine(file, options)));
  const rejected = settled.find((r) => r.status === 'rejected');
  if (rejected) {
    await Promise.all(settled.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    throw rejected.reason;
  }
  return { engines: Object.fromEntries(ENGINE_NAMES.map((n, i) => [n, (settled[i] as PromiseFulfilledResult<Engine>).value])) as Record<EngineName, Engine> };
}

/** A set closes its engines itself; engines made one by one close one by one. */
async function closeEngines(engines: Record<EngineName, Engine>, set: EngineSet | undefined): Promise<void> {
  await (set ? set.close() : Promise.all(ENGINE_NAMES.map((n) => engines[n].close())));
}
