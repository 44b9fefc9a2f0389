import { AnchorSegError, invalidArg } from '../base/errors.js';
import { MAX_SIDE } from '../base/frame.js';
import { LETTERBOX_MODES, type ImageSpec } from '../kernels/index.js';
import { DTYPES, type DType, type Dim, type TensorInfo } from '../backends/tensor.js';

/** The manifest file a bundle folder must hold (docs/bundle-format.md). */
export const MANIFEST_FILE = 'anchorseg.json';
export const FORMAT_VERSION = 1;

export type EngineName = 'vision' | 'reasoner' | 'decoder';
/** Run order; an engine's inputs may come from the engines before it. */
export const ENGINE_NAMES: readonly EngineName[] = ['vision', 'reasoner', 'decoder'];

export interface EngineSpec {
  file: string;
  sha256: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

interface TokenizerLimits {
  padId: number;
  /** More ids than this (for sentencepiece: the whole rendered prompt): ERR_GOAL_TOO_LONG. */
  maxTokens: number;
  maxChars: number;
  /**
   * Vocabulary words that describe nothing in the scene (wrapper and glue words such as "find",
   * "the", "please"). A goal with no known word outside this list is not looked for: `found` is
   * false with `notFoundReason` 'no-content-word'. Absent: every known word counts as content.
   */
  functionWords?: string[];
}

export interface WordTokenizerSpec extends TokenizerLimits {
  type: 'word';
  vocab: string;
  unkId: number;
  /** A word outside the vocabulary is read as the first of its base forms in it ("writing" as "write"; tokenizer-word.ts `baseForms`). Absent: false. */
  inflections?: boolean;
}

/** A token the SDK matches as one id wherever its text occurs (e.g. LLaVA's added `[SEG]`). */
export interface SpecialToken {
  text: string;
  id: number;
  /** Whitespace next to the token is dropped, as transformers' slow tokenizers do for tokens added with `add_tokens`. */
  strip: boolean;
}

export interface SentencePieceTokenizerSpec extends TokenizerLimits {
  type: 'sentencepiece';
  /** The SentencePiece `.model` file (a BPE ModelProto). */
  model: string;
  specialTokens: SpecialToken[];
  /** The text the reasoner reads after the image, `{goal}` marking the goal once; `long` for sentence goals. */
  templates: { short: string; long: string };
}

export type TokenizerSpec = WordTokenizerSpec | SentencePieceTokenizerSpec;

/** The file a tokenizer reads (listed in files[] like every non-engine file). */
export function tokenizerFile(spec: TokenizerSpec): { field: string; path: string } {
  return spec.type === 'word' ? { field: 'tokenizer.vocab', path: spec.vocab } : { field: 'tokenizer.model', path: spec.model };
}

export interface SplitMetrics {
  gIoU: number;
  cIoU: number;
  n?: number;
}

export interface Manifest {
  format: 'anchorseg-bundle';
  formatVersion: 1;
  model: { name: string; version: string; latentTokens: number; grid: number; dim: number; imageStates: 'vision' | 'reasoner'; config?: unknown };
  images: ImageSpec[];
  tokenizer: TokenizerSpec;
  mask: { image: string; threshold: number };
  score: { threshold: number };
  engines: Record<EngineName, EngineSpec>;
  files: { path: string; sha256: string }[];
  provenance?: Record<string, unknown>;
  metrics?: Record<string, SplitMetrics>;
}

/**
 * Ranges of the manifest's numbers (docs/bundle-format.md, Verification). Finite values outside
 * them used to be accepted and gave non-finite pixels, hence NaN scores (an extreme mean or std),
 * or a result that could never be right (a score threshold above 1). `mean` is the mean of values
 * in [0, 1], so it lies in [0, 1]; with `std` >= 0.001 a normalised pixel stays within +-1000,
 * well inside float16's range (65504).
 */
export const MANIFEST_RANGES = {
  mean: [0, 1],
  std: [0.001, 1000],
  maskThreshold: [-1000, 1000],
  scoreThreshold: [0, 1],
  grid: [1, 4096],
  latentTokens: [0, 4096],
  dim: [1, 1 << 20],
  maxTokens: [1, 65536],
  maxChars: [1, 65536],
} as const satisfies Record<string, readonly [number, number]>;

/**
 * Checks a parsed manifest's shape and the values format 1 supports. Throws ERR_BUNDLE_VERSION for
 * another format version and ERR_BUNDLE_INVALID, naming the file and the field, for anything else.
 */
export function parseManifest(json: unknown, file: string): Manifest {
  const r = new FieldReader(file);
  const m = r.object(json, 'manifest');
  if (m.format !== 'anchorseg-bundle') throw r.fail('format', '"anchorseg-bundle"', m.format);
  if (m.formatVersion !== FORMAT_VERSION) {
    throw new AnchorSegError(
      'ERR_BUNDLE_VERSION',
      `Expected formatVersion ${FORMAT_VERSION} in ${file} but received ${JSON.stringify(m.formatVersion) ?? 'undefined'}; this SDK reads bundle format ${FORMAT_VERSION} only`,
    );
  }
  const model = r.object(m.model, 'model');
  const images = r.array(m.images, 'images', 1).map((v, i) => readImage(r, v, `images[${i}]`));
  const tok = r.object(m.tokenizer, 'tokenizer');
  const mask = r.object(m.mask, 'mask');
  const score = r.object(m.score, 'score');
  const engines = r.object(m.engines, 'engines');
  const manifest: Manifest = {
    format: 'anchorseg-bundle',
    formatVersion: 1,
    model: {
      name: r.string(model.name, 'model.name'),
      version: r.string(model.version, 'model.version'),
      latentTokens: r.intIn(model.latentTokens, 'model.latentTokens', MANIFEST_RANGES.latentTokens),
      grid: r.intIn(model.grid, 'model.grid', MANIFEST_RANGES.grid),
      dim: r.intIn(model.dim, 'model.dim', MANIFEST_RANGES.dim),
      imageStates: r.oneOf(model.imageStates, 'model.imageStates', ['vision', 'reasoner'] as const),
      config: model.config,
    },
    images,
    tokenizer: readTokenizer(r, tok),
    mask: {
      image: r.oneOf(
        mask.image,
        'mask.image',
        images.map((i) => i.input),
      ),
      threshold: r.numberIn(mask.threshold, 'mask.threshold', MANIFEST_RANGES.maskThreshold),
    },
    score: { threshold: r.numberIn(score.threshold, 'score.threshold', MANIFEST_RANGES.scoreThreshold) },
    engines: {
      vision: readEngine(r, engines.vision, 'engines.vision'),
      reasoner: readEngine(r, engines.reasoner, 'engines.reasoner'),
      decoder: readEngine(r, engines.decoder, 'engines.decoder'),
    },
    files: r.array(m.files ?? [], 'files', 0).map((v, i) => {
      const f = r.object(v, `files[${i}]`);
      return { path: r.string(f.path, `files[${i}].path`), sha256: r.sha256(f.sha256, `files[${i}].sha256`) };
    }),
    provenance: m.provenance === undefined ? undefined : r.object(m.provenance, 'provenance'),
    metrics: m.metrics === undefined ? undefined : (r.object(m.metrics, 'metrics') as Record<string, SplitMetrics>),
  };
  return manifest;
}

function readTokenizer(r: FieldReader, tok: Record<string, unknown>): TokenizerSpec {
  const type = r.oneOf(tok.type, 'tokenizer.type', ['word', 'sentencepiece'] as const);
  const limits = {
    padId: r.int(tok.padId, 'tokenizer.padId', 0),
    maxTokens: r.intIn(tok.maxTokens, 'tokenizer.maxTokens', MANIFEST_RANGES.maxTokens),
    maxChars: r.intIn(tok.maxChars, 'tokenizer.maxChars', MANIFEST_RANGES.maxChars),
    ...(tok.functionWords !== undefined && {
      functionWords: r.array(tok.functionWords, 'tokenizer.functionWords', 0).map((w, i) => r.string(w, `tokenizer.functionWords[${i}]`)),
    }),
  };
  if (type === 'word') {
    const inflections = r.boolean(tok.inflections ?? false, 'tokenizer.inflections');
    return { type, vocab: r.string(tok.vocab, 'tokenizer.vocab'), unkId: r.int(tok.unkId, 'tokenizer.unkId', 0), ...(inflections && { inflections }), ...limits };
  }
  const templates = r.object(tok.templates, 'tokenizer.templates');
  const template = (key: 'short' | 'long') => {
    const t = r.string(templates[key], `tokenizer.templates.${key}`);
    if (t.split(GOAL_SLOT).length !== 2) throw r.fail(`tokenizer.templates.${key}`, `a string holding ${GOAL_SLOT} exactly once`, t);
    return t;
  };
  const specialTokens = r.array(tok.specialTokens ?? [], 'tokenizer.specialTokens', 0).map((v, i) => {
    const o = r.object(v, `tokenizer.specialTokens[${i}]`);
    const strip = r.boolean(o.strip ?? false, `tokenizer.specialTokens[${i}].strip`);
    return { text: r.string(o.text, `tokenizer.specialTokens[${i}].text`), id: r.int(o.id, `tokenizer.specialTokens[${i}].id`, 0), strip };
  });
  return { type, model: r.string(tok.model, 'tokenizer.model'), specialTokens, templates: { short: template('short'), long: template('long') }, ...limits };
}

/** Where a sentencepiece template takes the goal. */
export const GOAL_SLOT = '{goal}';

function readImage(r: FieldReader, v: unknown, at: string): ImageSpec {
  const o = r.object(v, at);
  const mean = r.array(o.mean, `${at}.mean`, 3).map((x, c) => r.numberIn(x, `${at}.mean[${c}]`, MANIFEST_RANGES.mean));
  const std = r.array(o.std, `${at}.std`, 3).map((x, c) => r.numberIn(x, `${at}.std[${c}]`, MANIFEST_RANGES.std));
  if (mean.length !== 3 || std.length !== 3) throw r.fail(`${at}.mean/std`, '3 values each (one per channel)', mean.length !== 3 ? o.mean : o.std);
  return {
    input: r.string(o.input, `${at}.input`),
    width: r.intIn(o.width, `${at}.width`, [1, MAX_SIDE]),
    height: r.intIn(o.height, `${at}.height`, [1, MAX_SIDE]),
    channelOrder: r.oneOf(o.channelOrder, `${at}.channelOrder`, ['rgb', 'bgr'] as const),
    layout: r.oneOf(o.layout, `${at}.layout`, ['nchw'] as const),
    dtype: r.oneOf(o.dtype, `${at}.dtype`, ['float32', 'float16'] as const),
    resize: r.oneOf(o.resize, `${at}.resize`, ['bilinear-antialias'] as const),
    letterbox: r.oneOf(o.letterbox, `${at}.letterbox`, LETTERBOX_MODES),
    mean,
    std,
  };
}

function readEngine(r: FieldReader, v: unknown, at: string): EngineSpec {
  const o = r.object(v, at);
  const io = (list: unknown, where: string): TensorInfo[] =>
    r.array(list, where, 1).map((t, i) => {
      const x = r.object(t, `${where}[${i}]`);
      return {
        name: r.string(x.name, `${where}[${i}].name`),
        dtype: r.oneOf(x.dtype, `${where}[${i}].dtype`, DTYPES) as DType,
        shape: r.array(x.shape, `${where}[${i}].shape`, 0).map((d, k): Dim => {
          if (typeof d === 'string' && d.length > 0) return d;
          return r.int(d, `${where}[${i}].shape[${k}]`, 0);
        }),
      };
    });
  return { file: r.string(o.file, `${at}.file`), sha256: r.sha256(o.sha256, `${at}.sha256`), inputs: io(o.inputs, `${at}.inputs`), outputs: io(o.outputs, `${at}.outputs`) };
}

/** Typed field access whose failures read `Expected <what> for <field> in <file> but received <value>`. */
class FieldReader {
  readonly #file: string;
  constructor(file: string) {
    this.#file = file;
  }

  fail(at: string, expected: string, value: unknown): AnchorSegError {
    return invalidArg(`${at} in ${this.#file}`, expected, value, 'ERR_BUNDLE_INVALID');
  }

  object(v: unknown, at: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw this.fail(at, 'an object', v);
    return v as Record<string, unknown>;
  }

  array(v: unknown, at: string, minLength: number): unknown[] {
    if (!Array.isArray(v) || v.length < minLength) throw this.fail(at, `an array of at least ${minLength} entries`, v);
    return v;
  }

  boolean(v: unknown, at: string): boolean {
    if (typeof v !== 'boolean') throw this.fail(at, 'true or false', v);
    return v;
  }

  string(v: unknown, at: string): string {
    if (typeof v !== 'string' || v.length === 0) throw this.fail(at, 'a non-empty string', v);
    return v;
  }

  sha256(v: unknown, at: string): string {
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/i.test(v)) throw this.fail(at, 'a sha256 of 64 hex digits', v);
    return v.toLowerCase();
  }

  number(v: unknown, at: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.fail(at, 'a finite number', v);
    return v;
  }

  int(v: unknown, at: string, min: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw this.fail(at, `integer >= ${min}`, v);
    return v;
  }

  /** An integer in [min, max]; a non-integer is reported as for int() (`integer >= min`). */
  intIn(v: unknown, at: string, [min, max]: readonly [number, number]): number {
    const n = this.int(v, at, min);
    if (n > max) throw this.fail(at, `integer between ${min} and ${max}`, v);
    return n;
  }

  /** A finite number in [min, max]. */
  numberIn(v: unknown, at: string, [min, max]: readonly [number, number]): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw this.fail(at, `a finite number between ${min} and ${max}`, v);
    return v;
  }

  oneOf<T extends string>(v: unknown, at: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) throw this.fail(at, `one of ${values.join(', ')}`, v);
    return v as T;
  }
}
