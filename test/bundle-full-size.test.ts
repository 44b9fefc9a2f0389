import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../sdk/bundle.js';

// The format must describe the reference 7B split (docs/bundle-format.md). No full-size weights
// exist here, so the engines are placeholder bytes: this checks the manifest reader, path and hash
// verification and the by-name wiring, not inference.
const EXAMPLE = new URL('../docs/examples/anchorseg-7b.anchorseg.json', import.meta.url);
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function fullSizeBundle(edit: (m: any) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'anchorseg-7b-'));
  dirs.push(dir);
  const m = JSON.parse(await readFile(EXAMPLE, 'utf8'));
  edit(m);
  const sha = async (file: string, bytes: string) => {
    await writeFile(join(dir, file), bytes);
    return createHash('sha256').update(bytes).digest('hex');
  };
  for (const spec of Object.values(m.engines) as { file: string; sha256: string }[]) spec.sha256 = await sha(spec.file, `placeholder ${spec.file}`);
  for (const f of m.files) f.sha256 = await sha(f.path, f.path.endsWith('.txt') ? '[PAD]\n[UNK]\nthe\n' : 'placeholder');
  await writeFile(join(dir, 'anchorseg.json'), JSON.stringify(m));
  return dir;
}

describe('bundle format: the full-size (7B) split', () => {
  it('verifies two pixel inputs, fp16 I/O, dynamic text length and reasoner image states', async () => {
    const dir = await fullSizeBundle((m) => {
      m.tokenizer = { ...m.tokenizer, type: 'word', vocab: 'vocab.txt', unkId: 1 };
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

  it("refuses LLaVA's SentencePiece tokenizer with a coded error naming tokenizer.type", async () => {
    const dir = await fullSizeBundle(() => {});
    await expect(loadBundle(dir)).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID', message: expect.stringContaining('tokenizer.type') });
  });
});
