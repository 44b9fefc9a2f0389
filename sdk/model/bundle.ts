import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { AnchorSegError, invalidArg, throwIfAborted } from '../base/errors.js';
import { packageRoot } from '../kernels/native.js';
import { ENGINE_NAMES, MANIFEST_FILE, parseManifest, tokenizerFile, type EngineName, type EngineSpec, type Manifest, type SentencePieceTokenizerSpec } from './manifest.js';
import { SentencePieceModel, SentencePieceModelError } from './sentencepiece.js';
import type { DType, TensorInfo } from '../backends/tensor.js';

/** Tensor names the tokenizer provides to whichever engine asks for them. */
export const GOAL_IDS = 'goal_ids';
export const GOAL_MASK = 'goal_mask';
/** Outputs the postprocessing reads, whichever engine produces them. */
export const RESULT_OUTPUTS = ['token_map', 'mask_logits', 'score'] as const;

/** A bundle whose manifest, paths, hashes and wiring have been verified (engines not yet loaded). */
export interface Bundle {
  dir: string;
  manifest: Manifest;
  /** Token text by id: the word vocabulary, or the SentencePiece pieces followed by the added special tokens. */
  vocab: string[];
  /** The parsed `.model` of a `sentencepiece` tokenizer. */
  sentencePiece?: SentencePieceModel;
  /** Absolute engine paths, verified to lie inside `dir`. */
  engines: Record<EngineName, string>;
}

/** The embedded default model, `models/bundles/anchorseg-tiny/` in the package. */
export function defaultBundleDir(): string {
  return path.join(packageRoot(), 'models', 'bundles', 'anchorseg-tiny');
}

/**
 * Reads and verifies a bundle folder: manifest, format version, paths, every file's sha256, and
 * that every engine input is provided by something before it. Each failure is an ERR_BUNDLE_* error
 * naming the file and the mismatch.
 */
export async function loadBundle(dir: string, options: { signal?: AbortSignal } = {}): Promise<Bundle> {
  if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('bundleDir', 'a non-empty path string', dir);
  const root = path.resolve(dir);
  const manifestPath = path.join(root, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    throw new AnchorSegError('ERR_BUNDLE_NOT_FOUND', `Expected a bundle manifest at ${manifestPath} but it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected JSON in ${manifestPath} but it does not parse: ${(err as Error).message}`, { cause: err });
  }
  const manifest = parseManifest(json, manifestPath);
  checkWiring(manifest, manifestPath);

  const realRoot = await realpath(root);
  const listed = new Map<string, { field: string; sha256: string }>();
  for (const name of ENGINE_NAMES) listed.set(manifest.engines[name].file, { field: `engines.${name}.file`, sha256: manifest.engines[name].sha256 });
  for (const [i, f] of manifest.files.entries()) listed.set(f.path, { field: `files[${i}].path`, sha256: f.sha256 });
  const tokFile = tokenizerFile(manifest.tokenizer);
  if (!manifest.files.some((f) => f.path === tokFile.path)) {
    throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected ${tokFile.field} "${tokFile.path}" to be listed in files[] of ${manifestPath} (every non-engine file needs a sha256) but it is not`);
  }
  const resolved = new Map<string, string>();
  for (const [rel, { field, sha256 }] of listed) {
    throwIfAborted(options.signal);
    const abs = await resolveInside(realRoot, rel, field, manifestPath);
    const actual = await sha256File(abs);
    if (actual !== sha256) {
      throw new AnchorSegError('ERR_BUNDLE_HASH', `Expected sha256 ${sha256} for ${abs} (${field} in ${manifestPath}) but the file hashes to ${actual}`);
    }
    resolved.set(rel, abs);
  }
  const tokPath = resolved.get(tokFile.path)!;
  let vocab: string[];
  let sentencePiece: SentencePieceModel | undefined;
  if (manifest.tokenizer.type === 'word') {
    vocab = parseVocab(await readFile(tokPath, 'utf8'));
    if (manifest.tokenizer.unkId >= vocab.length) {
      throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected tokenizer.unkId < ${vocab.length} (the size of ${tokFile.path}) in ${manifestPath} but received ${manifest.tokenizer.unkId}`);
    }
  } else {
    sentencePiece = readSentencePiece(await readFile(tokPath), tokPath, manifestPath);
    vocab = sentencePieceVocab(sentencePiece, manifest.tokenizer, manifestPath);
  }
  if (manifest.tokenizer.padId >= vocab.length) {
    throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected tokenizer.padId < ${vocab.length} (the size of ${tokFile.path}) in ${manifestPath} but received ${manifest.tokenizer.padId}`);
  }
  const engines = Object.fromEntries(ENGINE_NAMES.map((n) => [n, resolved.get(manifest.engines[n].file)!])) as Record<EngineName, string>;
  return { dir: realRoot, manifest, vocab, sentencePiece, engines };
}

/** One token per line, id = line index; a final newline does not add a token. */
function parseVocab(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function readSentencePiece(bytes: Uint8Array, file: string, manifestPath: string): SentencePieceModel {
  try {
    return new SentencePieceModel(bytes);
  } catch (err) {
    if (!(err instanceof SentencePieceModelError)) throw err;
    throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected ${file} (tokenizer.model in ${manifestPath}) to be a SentencePiece BPE model the SDK can run: ${err.message}`, { cause: err });
  }
}

/**
 * The model's pieces, then the special tokens it lacks (tokens added after training, as LLaVA
 * adds `[SEG]`): a special token either names a piece of the model by its id, or takes the next
 * id after the model's pieces, in order.
 */
function sentencePieceVocab(model: SentencePieceModel, spec: SentencePieceTokenizerSpec, manifestPath: string): string[] {
  const vocab = [...model.pieces];
  spec.specialTokens.forEach(({ text, id }, i) => {
    const at = `tokenizer.specialTokens[${i}]`;
    if (id < model.pieces.length ? model.pieces[id] !== text : id !== vocab.length) {
      const want = `id ${vocab.length} (the next after the model's ${model.pieces.length} pieces and earlier special tokens) or the id of the model's own piece ${JSON.stringify(text)}`;
      throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected ${want} for ${at} in ${manifestPath} but received ${id}`);
    }
    if (id >= model.pieces.length) vocab.push(text);
  });
  return vocab;
}

async function resolveInside(realRoot: string, rel: string, field: string, manifestPath: string): Promise<string> {
  const escapes = (p: string) => {
    const r = path.relative(realRoot, p);
    return r === '' || r.startsWith('..') || path.isAbsolute(r);
  };
  if (path.isAbsolute(rel) || escapes(path.resolve(realRoot, rel))) {
    throw new AnchorSegError('ERR_BUNDLE_PATH', `Expected ${field} in ${manifestPath} to be a relative path inside the bundle folder but received ${JSON.stringify(rel)}`);
  }
  const abs = path.resolve(realRoot, rel);
  let real: string;
  try {
    if (!(await stat(abs)).isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
    real = await realpath(abs);
  } catch (err) {
    throw new AnchorSegError('ERR_BUNDLE_FILE_MISSING', `Expected file ${abs} (${field} in ${manifestPath}) but it is missing (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  // A symlink inside the folder may still point outside it.
  if (escapes(real)) throw new AnchorSegError('ERR_BUNDLE_PATH', `Expected ${field} in ${manifestPath} to stay inside the bundle folder but ${abs} links to ${real}`);
  return real;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Engines are wired by tensor name: each input must come from a preprocessed image, the goal
 * tensors, or an output of an engine run before it, with the same dtype. The vision engine reads
 * images only: its output must not depend on the goal, so that it can run per frame while a
 * query bank is reused (dual-rate).
 */
function checkWiring(m: Manifest, manifestPath: string): void {
  const provided = new Map<string, { dtype: DType | 'int64|int32' | 'float32|float16'; from: string }>();
  for (const img of m.images) provided.set(img.input, { dtype: img.dtype, from: `images[].input "${img.input}"` });
  for (const name of ENGINE_NAMES) {
    if (name === 'reasoner') {
      provided.set(GOAL_IDS, { dtype: 'int64|int32', from: 'the tokenizer' });
      provided.set(GOAL_MASK, { dtype: 'float32|float16', from: 'the tokenizer' });
    }
    const spec = m.engines[name];
    for (const input of spec.inputs) {
      const source = provided.get(input.name);
      if (!source) {
        throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected input "${input.name}" of engines.${name} (${spec.file}) to be provided by an image, the tokenizer or an earlier engine in ${manifestPath} but nothing provides it`);
      }
      if (!source.dtype.split('|').includes(input.dtype)) {
        throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected input "${input.name}" of engines.${name} (${spec.file}) to have dtype ${source.dtype} as provided by ${source.from} in ${manifestPath} but it declares ${input.dtype}`);
      }
    }
    for (const output of spec.outputs) provided.set(output.name, { dtype: output.dtype, from: `engines.${name}` });
  }
  for (const name of RESULT_OUTPUTS) {
    if (!provided.has(name) || m.images.some((i) => i.input === name)) {
      throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected an engine output named "${name}" in ${manifestPath} but no engine produces it`);
    }
  }
  for (const img of m.images) {
    const want = [1, 3, img.height, img.width];
    for (const name of ENGINE_NAMES) {
      const input = m.engines[name].inputs.find((i) => i.name === img.input);
      if (input && JSON.stringify(input.shape) !== JSON.stringify(want)) {
        throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected shape ${JSON.stringify(want)} for input "${img.input}" of engines.${name} (from images[] ${img.width}x${img.height} nchw) in ${manifestPath} but it declares ${JSON.stringify(input.shape)}`);
      }
    }
  }
}

/**
 * Compares an engine's declared I/O with what the loaded session reports: names, dtypes, ranks
 * and fixed dims. A dim the manifest fixes may be dynamic in the model (it accepts that size);
 * a dim the manifest calls dynamic must be dynamic in the model too.
 */
export function checkEngineIO(name: EngineName, spec: EngineSpec, file: string, actual: { inputs: readonly TensorInfo[]; outputs: readonly TensorInfo[] }): void {
  const fail = (what: string) => new AnchorSegError('ERR_BUNDLE_MISMATCH', `Engine ${name} (${file}): ${what}`);
  for (const side of ['inputs', 'outputs'] as const) {
    const declared = spec[side];
    const real = actual[side];
    const names = (l: readonly TensorInfo[]) => l.map((t) => t.name).sort().join(', ');
    if (names(declared) !== names(real)) throw fail(`expected ${side} [${names(declared)}] as the manifest declares but the model has [${names(real)}]`);
    for (const want of declared) {
      const got = real.find((t) => t.name === want.name)!;
      if (got.dtype !== want.dtype) throw fail(`expected dtype ${want.dtype} for ${side.slice(0, -1)} "${want.name}" but the model has ${got.dtype}`);
      const bad =
        got.shape.length !== want.shape.length ||
        want.shape.some((d, i) => (typeof d === 'number' ? typeof got.shape[i] === 'number' && got.shape[i] !== d : typeof got.shape[i] === 'number'));
      if (bad) throw fail(`expected shape ${JSON.stringify(want.shape)} for ${side.slice(0, -1)} "${want.name}" but the model has ${JSON.stringify(got.shape)}`);
    }
  }
}
