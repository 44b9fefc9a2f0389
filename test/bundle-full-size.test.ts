import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../sdk/model/bundle.js';
import { SentencePieceModel } from '../sdk/model/sentencepiece.js';
import { Tokenizer } from '../sdk/model/tokenizer.js';
import { trainSentencePiece } from './fixtures/sentencepiece.js';
import { removeTemps } from './fixtures/sdk-helpers.js';

// The format must describe the reference 7B split (docs/bundle-format.md). No full-size weights
// exist here, so the engines are placeholder bytes: this checks the manifest reader, path and hash
// verification and the by-name wiring, not inference.
const EXAMPLE = new URL('../docs/examples/anchorseg-7b.anchorseg.json', import.meta.url);
const dirs: string[] = [];
afterAll(async () => Promise.all([removeTemps(), ...dirs.map((d) => rm(d, { recursive: true, force: true }))]));

/** The example manifest with placeholder files (or the given bytes per path), hashes filled in. */
async function fullSizeBundle(edit: (m: any) => void, bytes: Record<string, Uint8Array> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'anchorseg-7b-'));
  dirs.push(dir);
  const m = JSON.parse(await readFile(EXAMPLE, 'utf8'));
  edit(m);
  const sha = async (file: string, content: string | Uint8Array) => {
    await writeFile(join(dir, file), content);
    return createHash('sha256').update(content).digest('hex');
  };
  for (const spec of Object.values(m.engines) as { file: string; sha256: string }[]) spec.sha256 = await sha(spec.file, `placeholder ${spec.file}`);
  for (const f of m.files) f.sha256 = await sha(f.path, bytes[f.path] ?? (f.path.endsWith('.txt') ? '[PAD]\n[UNK]\nthe\n' : 'placeholder'));
  await writeFile(join(dir, 'anchorseg.json'), JSON.stringify(m));
  return dir;
}

describe('bundle format: the full-size (7B) split', () => {
  it('verifies two pixel inputs, fp16 I/O, dynamic text length and reasoner image states', async () => {
    const dir = await fullSizeBundle((m) => {
      m.tokenizer = { type: 'word', vocab: 'vocab.txt', padId: 0, unkId: 1, maxTokens: 40, maxChars: 512 };
      m.files = [{ path: 'vocab.txt', sha256: '' }];
    });
    const bundle = await loadBundle(dir);
    expect(bundle.manifest.images.map((i) => [i.input, i.width, i.dtype])).toEqual([
      ['clip_pixels', 336, 'float16'],
      ['sam_pixels', 1024, 'float16'],
    ]);
    expect(bundle.manifest.engines.reasoner.inputs[1].shape).toEqual([1, 'T']);
    expect(bundle.manifest.model.imageStates).toBe('reasoner');
  });

  it('refuses a tokenizer.model that is not a SentencePiece model, naming the file', async () => {
    const dir = await fullSizeBundle(() => {});
    await expect(loadBundle(dir)).rejects.toMatchObject({
      code: 'ERR_BUNDLE_INVALID',
      message: expect.stringMatching(/tokenizer\.model in .* to be a SentencePiece BPE model the SDK can run: expected/),
    });
  });

  describe("LLaVA's SentencePiece tokenizer (a LLaMA-like model trained here)", async () => {
    const trained = await trainSentencePiece();
    const modelBytes = await readFile(trained.model);
    const sp = new SentencePieceModel(modelBytes);
    const seg = sp.pieceToId('[SEG]');
    // [SEG] and the latents are pieces of this model; <im_end> is added after it, as transformers' add_tokens does.
    const special = (m: any) =>
      (m.tokenizer.specialTokens = m.tokenizer.specialTokens
        .filter((t: { text: string }) => !['[REJ]', '<im_start>'].includes(t.text))
        .map((t: { text: string }) => ({ ...t, id: t.text === '<im_end>' ? sp.pieces.length : t.text === '</s>' ? 2 : sp.pieceToId(t.text) })));
    const open = async (edit: (m: any) => void = () => {}) =>
      fullSizeBundle(
        (m) => {
          special(m);
          edit(m);
        },
        { 'tokenizer.model': modelBytes },
      );

    it('places the goal in the template, matches special tokens as atoms and encodes the text between them on its own', async () => {
      const bundle = await loadBundle(await open());
      expect(bundle.vocab.length).toBe(sp.pieces.length + 1);
      expect(bundle.vocab.at(-1)).toBe('<im_end>');
      const tok = Tokenizer.forBundle(bundle);
      const latents = Array.from({ length: 7 }, (_, i) => sp.pieceToId(`[LATENT${i}]`));
      const answer = [...latents, seg, ...sp.encode('.').ids, 2];
      const g = tok.tokenize('  the red cup ');
      expect(g.normalized).toBe(bundle.manifest.tokenizer.type === 'sentencepiece' && bundle.manifest.tokenizer.templates.short.replace('{goal}', 'the red cup'));
      expect(g.ids).toEqual([sp.pieces.length, ...sp.encode('What is the red cup in this image? Please output segmentation mask. ASSISTANT:').ids, ...answer]);
      expect(g.tokens.length).toBe(g.ids.length);
      expect(g.unknown).toEqual([]);
      // A sentence goal takes the long template; the query bank stays at the same offsets from the end.
      const long = tok.tokenize('What can I pour water into?');
      expect(long.ids).toEqual([sp.pieces.length, ...sp.encode('What can I pour water into? Please output segmentation mask. ASSISTANT:').ids, ...answer]);
      const t = tok.tensors(long);
      expect(t.goal_ids.dims).toEqual([1, long.ids.length]);
      expect(t.goal_mask.dtype).toBe('float16');
    });

    it('refuses empty and too long goals with coded errors', async () => {
      const tok = Tokenizer.forBundle(await loadBundle(await open((m) => (m.tokenizer.maxTokens = 40))));
      expect(() => tok.tokenize(' \n ')).toThrow(expect.objectContaining({ code: 'ERR_GOAL_EMPTY' }));
      expect(() => tok.tokenize('cup '.repeat(30))).toThrow(expect.objectContaining({ code: 'ERR_GOAL_TOO_LONG', message: expect.stringMatching(/at most 40 tokens/) }));
    });

    it.each([
      ['a special token id that is neither the model piece nor the next id', (m: any) => (m.tokenizer.specialTokens[1].id = 5), /tokenizer\.specialTokens\[1\]/],
      ['a template without {goal}', (m: any) => (m.tokenizer.templates.long = 'no slot'), /tokenizer\.templates\.long/],
      ['a tokenizer model not listed in files[]', (m: any) => (m.tokenizer.model = 'other.model'), /tokenizer\.model "other\.model" to be listed in files/],
    ])('refuses %s with ERR_BUNDLE_INVALID naming the field', async (_n, edit, message) => {
      await expect(loadBundle(await open(edit))).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID', message: expect.stringMatching(message) });
    });
  });
});
