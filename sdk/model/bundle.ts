import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AnchorSegError, invalidArg, throwIfAborted } from '../base/errors.js';
import { MAX_SIDE } from '../base/frame.js';
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

/** Largest manifest read (bytes): a manifest is a few kilobytes; more is not a manifest. */
export const MAX_MANIFEST_BYTES = 4 << 20;
/** Largest tokenizer file read into memory (bytes): a word vocabulary or a SentencePiece model (LLaMA's: 0.5 MB). */
export const MAX_TOKENIZER_BYTES = 64 << 20;
const CHUNK_BYTES = 1 << 20;

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
  const { signal } = options;
  throwIfAborted(signal);
  const root = path.resolve(dir);
  const manifestPath = path.join(root, MANIFEST_FILE);
  let manifestFile: FileHandle;
  try {
    manifestFile = await openRegular(manifestPath, 'the bundle manifest');
  } catch (err) {
    if (err instanceof AnchorSegError) throw err;
    throw new AnchorSegError('ERR_BUNDLE_NOT_FOUND', `Expected a bundle manifest at ${manifestPath} but it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  let text: string;
  try {
    text = (await readBounded(manifestFile, manifestPath, 'the bundle manifest', MAX_MANIFEST_BYTES, signal)).toString('utf8');
  } finally {
    await manifestFile.close();
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
  let tokBytes: Buffer | undefined;
  for (const [rel, { field, sha256 }] of listed) {
    throwIfAborted(signal);
    const abs = await resolveInside(realRoot, rel, field, manifestPath);
    const what = `${field} in ${manifestPath}`;
    let file: FileHandle;
    try {
      file = await openRegular(abs, what);
    } catch (err) {
      if (err instanceof AnchorSegError) throw err;
      throw new AnchorSegError('ERR_BUNDLE_FILE_MISSING', `Expected file ${abs} (${what}) but it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
    let actual: string;
    try {
      // The tokenizer's file is read once: the bytes hashed are the bytes parsed.
      if (rel === tokFile.path) {
        tokBytes = await readBounded(file, abs, what, MAX_TOKENIZER_BYTES, signal);
        actual = createHash('sha256').update(tokBytes).digest('hex');
      } else {
        actual = await hashOpen(file, signal);
      }
    } finally {
      await file.close();
    }
    if (actual !== sha256) {
      throw new AnchorSegError('ERR_BUNDLE_HASH', `Expected sha256 ${sha256} for ${abs} (${field} in ${manifestPath}) but the file hashes to ${actual}`);
    }
    resolved.set(rel, abs);
  }
  const tokPath = resolved.get(tokFile.path)!;
  let vocab: string[];
  let sentencePiece: SentencePieceModel | undefined;
  if (manifest.tokenizer.type === 'word') {
    vocab = parseVocab(tokBytes!.toString('utf8'));
    if (manifest.tokenizer.unkId >= vocab.length) {
      throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected tokenizer.unkId < ${vocab.length} (the size of ${tokFile.path}) in ${manifestPath} but received ${manifest.tokenizer.unkId}`);
    }
  } else {
    sentencePiece = readSentencePiece(tokBytes!, tokPath, manifestPath);
    vocab = sentencePieceVocab(sentencePiece, manifest.tokenizer, manifestPath);
  }
  if (manifest.tokenizer.padId >= vocab.length) {
    throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected tokenizer.padId < ${vocab.length} (the size of ${tokFile.path}) in ${manifestPath} but received ${manifest.tokenizer.padId}`);
  }
  const engines = Object.fromEntries(ENGINE_NAMES.map((n) => [n, resolved.get(manifest.engines[n].file)!])) as Record<EngineName, string>;
  return { dir: realRoot, manifest, vocab, sentencePiece, engines };
}

/** What a file that is not a regular file is, for messages. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Opens a bundle file without ever blocking, and only if it is a regular file. O_NONBLOCK makes
 * opening a FIFO return at once (a plain open waits for a writer, forever: it held a libuv thread,
 * ignored the signal and kept the process from exiting); the type is checked on the descriptor
 * (fstat), so the file cannot be swapped between the check and the reads. Anything else is
 * ERR_BUNDLE_INVALID naming the file and what it is; a file that cannot be opened throws the
 * system error (the caller words it).
 */
async function openRegular(file: string, what: string): Promise<FileHandle> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected a regular file for ${what} but ${file} is ${kindOf(st)}`);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

/** All of an open regular file, refusing more than `max` bytes (before reading, and if it grows meanwhile); the signal is checked between chunks. */
async function readBounded(handle: FileHandle, file: string, what: string, max: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const tooBig = (size: number) => new AnchorSegError('ERR_BUNDLE_INVALID', `Expected at most ${max} bytes for ${what} but ${file} holds ${size}`);
  const { size } = await handle.stat();
  if (size > max) throw tooBig(size);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    throwIfAborted(signal);
    const buf = new Uint8Array(Math.min(CHUNK_BYTES, max + 1 - total));
    const { bytesRead } = await handle.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    total += bytesRead;
    if (total > max) throw tooBig(total);
  }
  return Buffer.concat(chunks, total);
}

/** sha256 of an open regular file, read in chunks; the signal is checked between chunks (an engine may be gigabytes). */
async function hashOpen(handle: FileHandle, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash('sha256');
  const buf = new Uint8Array(CHUNK_BYTES);
  for (;;) {
    throwIfAborted(signal);
    const { bytesRead } = await handle.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
  }
  return hash.digest('hex');
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
    // lstat and realpath never open the file (so a FIFO cannot block them); its type is checked when it is opened.
    await lstat(abs);
    real = await realpath(abs);
  } catch (err) {
    throw new AnchorSegError('ERR_BUNDLE_FILE_MISSING', `Expected file ${abs} (${field} in ${manifestPath}) but it is missing (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  // A symlink inside the folder may still point outside it.
  if (escapes(real)) throw new AnchorSegError('ERR_BUNDLE_PATH', `Expected ${field} in ${manifestPath} to stay inside the bundle folder but ${abs} links to ${real}`);
  return real;
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
        throw new AnchorSegError(
          'ERR_BUNDLE_INVALID',
          `Expected input "${input.name}" of engines.${name} (${spec.file}) to be provided by an image, the tokenizer or an earlier engine in ${manifestPath} but nothing provides it`,
        );
      }
      if (!source.dtype.split('|').includes(input.dtype)) {
        throw new AnchorSegError(
          'ERR_BUNDLE_INVALID',
          `Expected input "${input.name}" of engines.${name} (${spec.file}) to have dtype ${source.dtype} as provided by ${source.from} in ${manifestPath} but it declares ${input.dtype}`,
        );
      }
    }
    for (const output of spec.outputs) provided.set(output.name, { dtype: output.dtype, from: `engines.${name}` });
  }
  for (const name of RESULT_OUTPUTS) {
    if (!provided.has(name) || m.images.some((i) => i.input === name)) {
      throw new AnchorSegError('ERR_BUNDLE_INVALID', `Expected an engine output named "${name}" in ${manifestPath} but no engine produces it`);
    }
  }
  checkModelShapes(m, manifestPath);
  for (const img of m.images) {
    const want = [1, 3, img.height, img.width];
    for (const name of ENGINE_NAMES) {
      const input = m.engines[name].inputs.find((i) => i.name === img.input);
      if (input && JSON.stringify(input.shape) !== JSON.stringify(want)) {
        throw new AnchorSegError(
          'ERR_BUNDLE_INVALID',
          `Expected shape ${JSON.stringify(want)} for input "${img.input}" of engines.${name} (from images[] ${img.width}x${img.height} nchw) in ${manifestPath} but it declares ${JSON.stringify(input.shape)}`,
        );
      }
    }
  }
}

/**
 * The model's numbers against the engines' declared shapes (themselves checked against the loaded
 * models by checkEngineIO): `token_map` is `[1, grid, grid]`, `query_bank` `[1, latentTokens + 1,
 * dim]`, and `mask_logits` no larger than a frame side. Dynamic dims are not compared.
 */
function checkModelShapes(m: Manifest, manifestPath: string): void {
  const output = (name: string) => {
    for (const engine of ENGINE_NAMES) {
      const index = m.engines[engine].outputs.findIndex((o) => o.name === name);
      if (index >= 0) return { engine, index, shape: m.engines[engine].outputs[index].shape };
    }
    return undefined;
  };
  const clash = (field: string, value: number, name: string, at: NonNullable<ReturnType<typeof output>>, which: string, want: number) =>
    new AnchorSegError(
      'ERR_BUNDLE_INVALID',
      `Expected ${field} in ${manifestPath} to match ${which} of output "${name}" of engines.${at.engine} (declared ${JSON.stringify(at.shape)}, so ${want}) but received ${value}`,
    );
  const tokenMap = output('token_map');
  if (tokenMap && tokenMap.shape.length >= 2) {
    for (const d of tokenMap.shape.slice(-2)) {
      if (typeof d === 'number' && d !== m.model.grid) throw clash('model.grid', m.model.grid, 'token_map', tokenMap, 'the last two dims', d);
    }
  }
  const bank = output('query_bank');
  if (bank && bank.shape.length === 3) {
    const [, rows, dim] = bank.shape;
    if (typeof rows === 'number' && rows !== m.model.latentTokens + 1) throw clash('model.latentTokens', m.model.latentTokens, 'query_bank', bank, 'dim 1 (latentTokens + 1 rows)', rows - 1);
    if (typeof dim === 'number' && dim !== m.model.dim) throw clash('model.dim', m.model.dim, 'query_bank', bank, 'its last dim', dim);
  }
  const logits = output('mask_logits');
  if (logits) {
    for (const d of logits.shape.slice(-2)) {
      if (typeof d === 'number' && (d < 1 || d > MAX_SIDE)) {
        throw new AnchorSegError(
          'ERR_BUNDLE_INVALID',
          `Expected sides between 1 and ${MAX_SIDE} in engines.${logits.engine}.outputs[${logits.index}].shape ("mask_logits") in ${manifestPath} but received ${JSON.stringify(logits.shape)}`,
        );
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
    const names = (l: readonly TensorInfo[]) =>
      l
        .map((t) => t.name)
        .sort()
        .join(', ');
    if (names(declared) !== names(real)) throw fail(`expected ${side} [${names(declared)}] as the manifest declares but the model has [${names(real)}]`);
    for (const want of declared) {
      const got = real.find((t) => t.name === want.name)!;
      if (got.dtype !== want.dtype) throw fail(`expected dtype ${want.dtype} for ${side.slice(0, -1)} "${want.name}" but the model has ${got.dtype}`);
      const bad =
        got.shape.length !== want.shape.length || want.shape.some((d, i) => (typeof d === 'number' ? typeof got.shape[i] === 'number' && got.shape[i] !== d : typeof got.shape[i] === 'number'));
      if (bad) throw fail(`expected shape ${JSON.stringify(want.shape)} for ${side.slice(0, -1)} "${want.name}" but the model has ${JSON.stringify(got.shape)}`);
    }
  }
}
