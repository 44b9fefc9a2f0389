import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeMaskPng, encodeOverlayPng } from '../model/encoders.js';
import { AnchorSegError, invalidArg } from '../base/errors.js';
import { overlayResult } from '../kernels/index.js';
import { GifWriter } from './gif.js';
import { resultRecord } from './host.js';
import { checkBag } from './policy.js';
import type { StreamResult } from './stream.js';

export interface StreamWriterOptions {
  /** `masks/<frameIndex>.png`, greyscale, 255 = goal (default true). */
  masks?: boolean;
  /** `overlays/<frameIndex>.png`, the frame with the mask's fill, outline, bbox and anchor (`encodeOverlayPng`; default true). */
  overlays?: boolean;
  /** `results.jsonl`, one line per result: the result record (`resultRecord()`: metadata, COCO RLE of the mask, bank, timings) and the files written (default true). */
  json?: boolean;
  /** `preview.gif`: every `every`-th overlay, at most `maxFrames` of them, played at `fps` (default off). */
  gif?: { every?: number; maxFrames?: number; fps?: number };
}

/** What a StreamWriter wrote. */
export interface WrittenFiles {
  dir: string;
  results: number;
  json: string | undefined;
  gif: string | undefined;
}

/** Writes a stream's results to a folder: mask and overlay PNGs, JSON lines, an animated preview. */
export class StreamWriter {
  readonly #dir: string;
  readonly #masks: boolean;
  readonly #overlays: boolean;
  readonly #json: FileHandle | undefined;
  readonly #gif: { writer: GifWriter; every: number; maxFrames: number } | undefined;
  #results = 0;
  #closing: Promise<WrittenFiles> | undefined;

  private constructor(dir: string, o: Required<Omit<StreamWriterOptions, 'gif' | 'json'>>, json: FileHandle | undefined, gif: StreamWriterOptions['gif']) {
    this.#dir = dir;
    this.#masks = o.masks;
    this.#overlays = o.overlays;
    this.#json = json;
    if (gif) this.#gif = { writer: new GifWriter(gif.fps ?? 10), every: gif.every ?? 1, maxFrames: gif.maxFrames ?? 300 };
  }

  /** Creates `dir` (and its sub-folders) and opens results.jsonl for writing (truncated). */
  static async open(dir: string, options: StreamWriterOptions = {}): Promise<StreamWriter> {
    if (typeof dir !== 'string' || dir.length === 0) throw invalidArg('dir', 'a folder path', dir);
    const o = checkBag(options, 'options', ['masks', 'overlays', 'json', 'gif']) as StreamWriterOptions;
    const gif = o.gif && (checkBag(o.gif, 'options.gif', ['every', 'maxFrames', 'fps']) as StreamWriterOptions['gif']);
    const masks = o.masks ?? true;
    const overlays = o.overlays ?? true;
    await mkdir(dir, { recursive: true });
    if (masks) await mkdir(path.join(dir, 'masks'), { recursive: true });
    if (overlays) await mkdir(path.join(dir, 'overlays'), { recursive: true });
    const json = (o.json ?? true) ? await open(path.join(dir, 'results.jsonl'), 'w') : undefined;
    return new StreamWriter(dir, { masks, overlays }, json, gif);
  }

  /** Writes one result's files; call in order, one at a time. */
  async write(r: StreamResult): Promise<void> {
    if (this.#closing) throw new AnchorSegError('ERR_DISPOSED', 'StreamWriter is closed');
    const name = `${String(r.frameIndex).padStart(6, '0')}.png`;
    const files: Record<string, string> = {};
    if (this.#masks) {
      files.mask = path.join('masks', name);
      await writeFile(path.join(this.#dir, files.mask), await encodeMaskPng(r));
    }
    if (this.#overlays) {
      files.overlay = path.join('overlays', name);
      await writeFile(path.join(this.#dir, files.overlay), await encodeOverlayPng(r.frame, r));
    }
    const g = this.#gif;
    if (g && this.#results % g.every === 0 && g.writer.frames < g.maxFrames) g.writer.add(overlayResult(r.frame, r), r.width, r.height);
    if (this.#json) await this.#json.write(`${JSON.stringify({ ...resultRecord(r), files })}\n`);
    this.#results++;
  }

  /** Finishes results.jsonl and writes preview.gif. Idempotent. */
  close(): Promise<WrittenFiles> {
    this.#closing ??= (async () => {
      await this.#json?.close();
      const g = this.#gif;
      const gif = g && g.writer.frames > 0 ? path.join(this.#dir, 'preview.gif') : undefined;
      if (gif) await g!.writer.save(gif);
      else await g?.writer.discard();
      return { dir: this.#dir, results: this.#results, json: this.#json && path.join(this.#dir, 'results.jsonl'), gif };
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
