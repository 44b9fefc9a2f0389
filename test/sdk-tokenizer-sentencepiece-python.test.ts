/**
 * The SDK's SentencePiece BPE against Python `sentencepiece` itself: a LLaMA-like model is
 * trained inside the test (nothing downloaded), then both encode the same >= 2,000 strings and
 * must give byte-identical ids.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SentencePieceModel } from '../sdk/model/sentencepiece.js';
import { removeTemps } from './fixtures/sdk-helpers.js';
import { trainSentencePiece } from './fixtures/sentencepiece.js';

afterAll(removeTemps);

describe('SentencePieceModel: parity with Python sentencepiece', async () => {
  const trained = await trainSentencePiece();
  const model = new SentencePieceModel(await readFile(trained.model));
  const expected = JSON.parse(await readFile(trained.expected, 'utf8')) as { strings: string[]; ids: number[][] };

  it('reads the trained model: BPE with byte fallback, identity normalisation', () => {
    expect(model.pieces.length).toBe(1200);
    expect(model.byteFallback).toBe(true);
    expect(model.unkId).toBe(0);
    expect(model.normalize(' a  b')).toBe('\u2581\u2581a\u2581\u2581b');
  });

  it('gives the same ids on >= 2,000 strings (unicode, emoji, whitespace runs, CJK, digits, long goals, special tokens)', () => {
    expect(expected.strings.length).toBeGreaterThanOrEqual(2000);
    const mismatches = expected.strings.flatMap((s, i) => {
      const ids = model.encode(s).ids;
      return JSON.stringify(ids) === JSON.stringify(expected.ids[i]) ? [] : [{ s, ts: ids, py: expected.ids[i] }];
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('exercises merges, byte fallback and user-defined atoms (the strings are not trivial)', () => {
    const all = expected.ids.flat();
    const byteIds = new Set(model.pieces.flatMap((p, id) => (/^<0x[0-9A-F]{2}>$/.test(p) ? [id] : [])));
    expect(all.filter((id) => byteIds.has(id)).length).toBeGreaterThan(100);
    expect(all).toContain(model.pieceToId('[SEG]'));
    expect(all.filter((id) => model.pieces[id].length > 3).length).toBeGreaterThan(1000);
  });
});
