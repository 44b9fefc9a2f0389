import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { encodeMaskPng, encodeOverlayPng, toRle } from '../../sdk/model/encoders.js';
import { loadImage } from '../../sdk/base/image.js';
import { action, addEngineFlags, interruptSignal, openSegmenter, type EngineFlags } from '../run.js';

interface Flags extends EngineFlags {
  goal: string;
  out: string;
}

export function register(program: Command): void {
  addEngineFlags(
    program
      .command('segment')
      .description('segment PNG/JPEG images for a goal; writes <name>.mask.png, <name>.overlay.png and <name>.json per image')
      .argument('<image...>', 'image files')
      .requiredOption('-g, --goal <text>', 'what to find, in plain language')
      .option('-o, --out <dir>', 'output folder', path.join('out', 'segment')),
  ).action(action(run));
}

async function run(images: string[], flags: Flags): Promise<void> {
  const signal = interruptSignal();
  const seg = await openSegmenter(flags, signal);
  try {
    const goal = seg.tokenize(flags.goal); // refuse a bad goal before reading any image
    if (goal.unknown.length) process.stderr.write(`anchorseg: words not in the model's vocabulary (read as unknown): ${goal.unknown.join(', ')}\n`);
    const used = new Set<string>();
    for (const file of images) {
      const frame = await loadImage(file);
      const r = await seg.segment(frame, flags.goal, { signal });
      let stem = path.parse(file).name;
      for (let i = 2; used.has(stem); i++) stem = `${path.parse(file).name}-${i}`;
      used.add(stem);
      const out = (suffix: string) => path.join(flags.out, `${stem}${suffix}`);
      await mkdir(flags.out, { recursive: true }); // only once an image has been segmented
      await writeFile(out('.mask.png'), await encodeMaskPng(r));
      await writeFile(out('.overlay.png'), await encodeOverlayPng(frame, r));
      const { mask: _mask, tokenMap, ...rest } = r;
      const json = { image: file, ...rest, tokenMap: { grid: tokenMap.grid, data: [...tokenMap.data] }, rle: toRle(r), files: { mask: out('.mask.png'), overlay: out('.overlay.png') } };
      await writeFile(out('.json'), `${JSON.stringify(json, null, 2)}\n`);
      const where = r.bbox ? `bbox [${r.bbox.join(', ')}]` : 'empty mask';
      process.stdout.write(`${file}: ${r.found ? 'found' : 'not found'} (score ${r.score.toFixed(3)}), ${r.area} px, ${where} -> ${out('.*')}\n`);
    }
  } finally {
    await seg.close();
  }
}
