/**
 * Reads the parts of a SentencePiece `.model` file (a serialized `sentencepiece.ModelProto`,
 * sentencepiece_model.proto) that encoding needs. Hand-written so the SDK carries no protobuf
 * dependency; unknown fields are skipped as the wire format allows.
 */

/** SentencePiece.Type values. */
export const PieceType = { Normal: 1, Unknown: 2, Control: 3, UserDefined: 4, Unused: 5, Byte: 6 } as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

export interface ModelPiece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface ModelProto {
  pieces: ModelPiece[];
  /** TrainerSpec.model_type: 1 unigram, 2 bpe, 3 word, 4 char. */
  modelType: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  normalizer: {
    name: string;
    precompiledCharsmapBytes: number;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
  };
}

/** Thrown with the byte offset where the bytes stop being a ModelProto. */
export class ProtoError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new ProtoError(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  /** A length-delimited field: a sub-reader over its bytes. */
  sub(): Reader {
    const len = this.varint();
    if (this.pos + len > this.end) throw new ProtoError(`field of ${len} bytes overruns its message at byte ${this.pos}`);
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  string(): string {
    const r = this.sub();
    try {
      return utf8.decode(this.buf.subarray(r.pos, r.end));
    } catch {
      throw new ProtoError(`string field is not UTF-8 at byte ${r.pos}`);
    }
  }

  float32(): number {
    if (this.pos + 4 > this.end) throw new ProtoError(`truncated float at byte ${this.pos}`);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.sub();
    else if (wireType === 5) this.pos += 4;
    else throw new ProtoError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    if (this.pos > this.end) throw new ProtoError(`field overruns its message at byte ${this.pos}`);
  }

  /** Calls `on(field, wireType)` per field; `on` returns false to have the field skipped. */
  fields(on: (field: number, wireType: number) => boolean): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wireType = key & 7;
      if (!on(field, wireType)) this.skip(wireType);
    }
  }
}

export function parseModelProto(buf: Uint8Array): ModelProto {
  const model: ModelProto = {
    pieces: [],
    modelType: 1, // proto2 defaults, for fields a file leaves out
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    normalizer: { name: '', precompiledCharsmapBytes: 0, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  };
  const top = new Reader(buf, 0, buf.length);
  top.fields((field, wt) => {
    if (wt !== 2) return false;
    if (field === 1) model.pieces.push(readPiece(top.sub()));
    else if (field === 2) readTrainerSpec(top.sub(), model);
    else if (field === 3) readNormalizerSpec(top.sub(), model.normalizer);
    else return false;
    return true;
  });
  return model;
}

function readPiece(r: Reader): ModelPiece {
  const p: ModelPiece = { piece: '', score: 0, type: PieceType.Normal };
  r.fields((field, wt) => {
    if (field === 1 && wt === 2) p.piece = r.string();
    else if (field === 2 && wt === 5) p.score = r.float32();
    else if (field === 3 && wt === 0) p.type = r.varint() as PieceType;
    else return false;
    return true;
  });
  return p;
}

function readTrainerSpec(r: Reader, model: ModelProto): void {
  r.fields((field, wt) => {
    if (wt !== 0) return false;
    if (field === 3) model.modelType = r.varint();
    else if (field === 24) model.treatWhitespaceAsSuffix = r.varint() !== 0;
    else if (field === 35) model.byteFallback = r.varint() !== 0;
    else return false;
    return true;
  });
}

function readNormalizerSpec(r: Reader, n: ModelProto['normalizer']): void {
  r.fields((field, wt) => {
    if (field === 1 && wt === 2) n.name = r.string();
    else if (field === 2 && wt === 2) {
      const m = r.sub();
      n.precompiledCharsmapBytes = m.end - m.pos;
    } else if (field === 3 && wt === 0) n.addDummyPrefix = r.varint() !== 0;
    else if (field === 4 && wt === 0) n.removeExtraWhitespaces = r.varint() !== 0;
    else if (field === 5 && wt === 0) n.escapeWhitespaces = r.varint() !== 0;
    else return false;
    return true;
  });
}
