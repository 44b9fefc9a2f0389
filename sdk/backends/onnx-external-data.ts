/**
 * The external-data files an ONNX model names (large models keep weights beside the graph, e.g.
 * `reasoner.onnx.data`). A TensorRT plan depends on them as much as on the graph, so the plan
 * cache keys on both. The protobuf is walked with positional reads: weights stored inside the
 * file are skipped by length, never read, so a 2 GB graph costs a few kilobytes of reads.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { AnchorSegError } from '../base/errors.js';

// Field numbers from onnx.proto (all length-delimited here).
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE_T = 5;
const ATTRIBUTE_G = 6;
const ATTRIBUTE_TENSORS = 10;
const ATTRIBUTE_GRAPHS = 11;
const SPARSE_VALUES = 1;
const SPARSE_INDICES = 2;
const TENSOR_EXTERNAL_DATA = 13;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

/** Which length-delimited fields of a message hold what, by message kind. */
type Kind = 'model' | 'graph' | 'node' | 'attribute' | 'sparse' | 'tensor' | 'entry';
const CHILDREN: Record<Kind, Partial<Record<number, Kind>>> = {
  model: { [MODEL_GRAPH]: 'graph' },
  graph: { [GRAPH_NODE]: 'node', [GRAPH_INITIALIZER]: 'tensor', [GRAPH_SPARSE_INITIALIZER]: 'sparse' },
  node: { [NODE_ATTRIBUTE]: 'attribute' },
  attribute: { [ATTRIBUTE_T]: 'tensor', [ATTRIBUTE_G]: 'graph', [ATTRIBUTE_TENSORS]: 'tensor', [ATTRIBUTE_GRAPHS]: 'graph' },
  sparse: { [SPARSE_VALUES]: 'tensor', [SPARSE_INDICES]: 'tensor' },
  tensor: { [TENSOR_EXTERNAL_DATA]: 'entry' },
  entry: {},
};

/** Relative paths (as written in the model) of every external-data file, sorted, without repeats. */
export async function externalDataFiles(onnxFile: string): Promise<string[]> {
  const fh = await open(onnxFile, 'r');
  try {
    const reader = new Reader(fh, onnxFile);
    const found = new Set<string>();
    await reader.message('model', 0, (await fh.stat()).size, found);
    return [...found].sort();
  } finally {
    await fh.close();
  }
}

class Reader {
  readonly #fh: FileHandle;
  readonly #file: string;
  readonly #buf = Buffer.alloc(10);

  constructor(fh: FileHandle, file: string) {
    this.#fh = fh;
    this.#file = file;
  }

  async message(kind: Kind, start: number, end: number, found: Set<string>): Promise<void> {
    let pos = start;
    let key: string | undefined;
    let value: string | undefined;
    while (pos < end) {
      const [tag, afterTag] = await this.#varint(pos);
      const field = Number(tag >> 3n);
      const wire = Number(tag & 7n);
      if (wire === 2) {
        const [len, from] = await this.#varint(afterTag);
        const to = from + Number(len);
        if (to > end) throw this.#corrupt(`a field ending at byte ${to}, past its message's end ${end}`);
        const child = CHILDREN[kind][field];
        if (child) await this.message(child, from, to, found);
        else if (kind === 'entry' && (field === ENTRY_KEY || field === ENTRY_VALUE)) {
          const text = await this.#string(from, to);
          if (field === ENTRY_KEY) key = text;
          else value = text;
        }
        pos = to;
      } else if (wire === 0) pos = (await this.#varint(afterTag))[1];
      else if (wire === 1) pos = afterTag + 8;
      else if (wire === 5) pos = afterTag + 4;
      else throw this.#corrupt(`wire type 0, 1, 2 or 5 at byte ${pos}`, `wire type ${wire}`);
    }
    if (kind === 'entry' && key === 'location' && value !== undefined) found.add(value);
  }

  async #varint(pos: number): Promise<[bigint, number]> {
    const { bytesRead } = await this.#fh.read(this.#buf, 0, 10, pos);
    let v = 0n;
    for (let i = 0; i < bytesRead; i++) {
      v |= BigInt(this.#buf[i] & 0x7f) << BigInt(7 * i);
      if (this.#buf[i] < 0x80) return [v, pos + i + 1];
    }
    throw this.#corrupt(`a varint at byte ${pos}`, 'the end of the file or over 10 bytes');
  }

  async #string(from: number, to: number): Promise<string> {
    if (to - from > 4096) throw this.#corrupt(`an external-data key or location under 4096 bytes at byte ${from}`, `${to - from} bytes`);
    const b = Buffer.alloc(to - from);
    await this.#fh.read(b, 0, b.length, from);
    return b.toString('utf8');
  }

  #corrupt(expected: string, received = 'something else'): AnchorSegError {
    return new AnchorSegError('ERR_BUNDLE_INVALID', `Expected ${expected} in the ONNX model ${this.#file} but found ${received}`);
  }
}
