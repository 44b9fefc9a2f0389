import { parseModelProto, PieceType, ProtoError, type ModelProto } from './sentencepiece-proto.js';

/** The whitespace symbol SentencePiece writes for ' ' (U+2581). */
const SPACE = '\u2581';
const utf8 = new TextEncoder();

/** Why a `.model` file cannot be encoded with; the caller names the file. */
export class SentencePieceModelError extends Error {}

interface SymbolPair {
  left: number;
  right: number;
  score: number;
  /** Length of the merged piece, to tell a stale pair from a live one. */
  size: number;
}

interface Sym {
  piece: string;
  prev: number;
  next: number;
  /** A user-defined symbol: never merged. */
  freeze: boolean;
}

/**
 * A SentencePiece BPE model as LLaMA uses it, encoding exactly as sentencepiece's
 * `bpe_model.cc` + `normalizer.cc` + `SentencePieceProcessor::Encode` do: identity
 * normalisation, dummy prefix, whitespace escaped to U+2581, user-defined pieces matched as
 * atoms, score-ordered merges (ties: leftmost first), unused pieces re-split, unknown pieces
 * decomposed into `<0xNN>` byte pieces where byte fallback is on.
 */
export class SentencePieceModel {
  /** Piece text by id. */
  readonly pieces: readonly string[];
  readonly unkId: number;
  readonly #proto: ModelProto;
  /** Normal, user-defined and unused pieces (what merges may produce). */
  readonly #mergeable = new Map<string, number>();
  /** Unknown, control and byte pieces. */
  readonly #reserved = new Map<string, number>();
  /** User-defined pieces, longest first per first character (prefix match). */
  readonly #userDefined = new Map<string, string[]>();

  constructor(bytes: Uint8Array) {
    let proto: ModelProto;
    try {
      proto = parseModelProto(bytes);
    } catch (err) {
      if (err instanceof ProtoError) throw new SentencePieceModelError(`expected a SentencePiece ModelProto but the bytes are not one (${err.message})`);
      throw err;
    }
    if (proto.modelType !== 2) throw new SentencePieceModelError(`expected a BPE model (trainer_spec.model_type 2) but it has model_type ${proto.modelType}`);
    if (proto.normalizer.precompiledCharsmapBytes > 0) {
      throw new SentencePieceModelError(
        `expected identity normalisation (no precompiled_charsmap, as LLaMA's) but normalizer "${proto.normalizer.name}" has a ${proto.normalizer.precompiledCharsmapBytes}-byte charsmap`,
      );
    }
    let unkId = -1;
    proto.pieces.forEach((p, id) => {
      const mergeable = p.type === PieceType.Normal || p.type === PieceType.UserDefined || p.type === PieceType.Unused;
      const map = mergeable ? this.#mergeable : this.#reserved;
      if (p.piece.length === 0 || map.has(p.piece)) throw new SentencePieceModelError(`expected each piece non-empty and defined once but piece ${id} ${JSON.stringify(p.piece)} is not`);
      map.set(p.piece, id);
      if (p.type === PieceType.Unknown) unkId = id;
      if (p.type === PieceType.UserDefined) {
        const first = String.fromCodePoint(p.piece.codePointAt(0)!);
        this.#userDefined.set(
          first,
          [...(this.#userDefined.get(first) ?? []), p.piece].sort((a, b) => b.length - a.length),
        );
      }
    });
    if (unkId < 0) throw new SentencePieceModelError('expected an unknown piece (type UNKNOWN) but the model has none');
    this.pieces = proto.pieces.map((p) => p.piece);
    this.unkId = unkId;
    this.#proto = proto;
  }

  get byteFallback(): boolean {
    return this.#proto.byteFallback;
  }

  /** The id of a piece, or the unknown id. */
  pieceToId(piece: string): number {
    return this.#reserved.get(piece) ?? this.#mergeable.get(piece) ?? this.unkId;
  }

  /** Ids and pieces of `text`, as `SentencePieceProcessor.encode(text)` returns them. */
  encode(text: string): { ids: number[]; pieces: string[] } {
    const ids: number[] = [];
    const pieces: string[] = [];
    let prevUnk = false;
    for (const piece of this.#bpe(this.normalize(text))) {
      const id = this.pieceToId(piece);
      const unk = id === this.unkId;
      if (unk && this.#proto.byteFallback) {
        for (const b of utf8.encode(piece)) {
          const byte = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
          ids.push(this.pieceToId(byte));
          pieces.push(byte);
        }
      } else if (unk && prevUnk) {
        pieces[pieces.length - 1] += piece; // a run of unknown pieces is one unknown token
      } else {
        ids.push(id);
        pieces.push(piece);
      }
      prevUnk = unk;
    }
    return { ids, pieces };
  }

  /** normalizer.cc without a charsmap: extra-whitespace removal, dummy prefix, ' ' -> U+2581. */
  normalize(text: string): string {
    const n = this.#proto.normalizer;
    const space = n.escapeWhitespaces ? SPACE : ' ';
    let input = text;
    if (n.removeExtraWhitespaces) input = input.replace(/^ +/, '');
    if (input.length === 0) return '';
    let out = n.addDummyPrefix && !this.#proto.treatWhitespaceAsSuffix ? space : '';
    let prevSpace = n.removeExtraWhitespaces;
    for (const c of input) {
      if (n.removeExtraWhitespaces && prevSpace && c === ' ') continue;
      out += c === ' ' ? space : c;
      prevSpace = c === ' ';
    }
    if (n.removeExtraWhitespaces) while (out.endsWith(space)) out = out.slice(0, -space.length);
    if (n.addDummyPrefix && this.#proto.treatWhitespaceAsSuffix) out += space;
    return out;
  }

  /** bpe_model.cc Model::Encode on normalised text: the final pieces, unused ones re-split. */
  #bpe(normalized: string): string[] {
    const symbols: Sym[] = [];
    for (let i = 0; i < normalized.length; ) {
      const first = String.fromCodePoint(normalized.codePointAt(i)!);
      const atom = this.#userDefined.get(first)?.find((u) => normalized.startsWith(u, i));
      const piece = atom ?? first;
      symbols.push({ piece, prev: symbols.length - 1, next: -1, freeze: atom !== undefined });
      i += piece.length;
    }
    for (let i = 0; i < symbols.length; i++) symbols[i].next = i + 1 < symbols.length ? i + 1 : -1;

    const agenda = new PairHeap();
    const revMerge = new Map<string, [string, string]>();
    const addPair = (left: number, right: number) => {
      if (left < 0 || right < 0 || symbols[left].freeze || symbols[right].freeze) return;
      const piece = symbols[left].piece + symbols[right].piece;
      const id = this.#mergeable.get(piece);
      if (id === undefined) return;
      agenda.push({ left, right, score: this.#proto.pieces[id].score, size: piece.length });
      if (this.#proto.pieces[id].type === PieceType.Unused) revMerge.set(piece, [symbols[left].piece, symbols[right].piece]);
    };
    for (let i = 1; i < symbols.length; i++) addPair(i - 1, i);

    for (let top = agenda.pop(); top; top = agenda.pop()) {
      const l = symbols[top.left];
      const r = symbols[top.right];
      // A pair whose symbols changed since it was queued is stale.
      if (l.piece.length === 0 || r.piece.length === 0 || l.piece.length + r.piece.length !== top.size) continue;
      l.piece += r.piece;
      l.next = r.next;
      if (r.next >= 0) symbols[r.next].prev = top.left;
      r.piece = '';
      addPair(l.prev, top.left);
      addPair(top.left, l.next);
    }

    const out: string[] = [];
    const resegment = (w: string): void => {
      const id = this.pieceToId(w);
      const split = this.#proto.pieces[id].type === PieceType.Unused ? revMerge.get(w) : undefined;
      if (!split) out.push(w);
      else split.forEach(resegment);
    };
    for (let i = symbols.length > 0 ? 0 : -1; i !== -1; i = symbols[i].next) resegment(symbols[i].piece);
    return out;
  }
}

/** sentencepiece's agenda: highest score first, ties to the leftmost pair. */
class PairHeap {
  readonly #items: SymbolPair[] = [];

  static #before(a: SymbolPair, b: SymbolPair): boolean {
    return a.score > b.score || (a.score === b.score && a.left < b.left);
  }

  push(p: SymbolPair): void {
    const h = this.#items;
    h.push(p);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!PairHeap.#before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  pop(): SymbolPair | undefined {
    const h = this.#items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < h.length && PairHeap.#before(h[l], h[best])) best = l;
        if (r < h.length && PairHeap.#before(h[r], h[best])) best = r;
        if (best === i) break;
        [h[i], h[best]] = [h[best], h[i]];
        i = best;
      }
    }
    return top;
  }
}
