/**
 * Segment one image for a goal, print what was found and save the overlay.
 *
 *   npm run build && node dist/examples/segment-image.js [image] [goal] [out.png]
 *
 * In your own project the import is `from 'anchorseg'`.
 */
import { writeFile } from 'node:fs/promises';
import { defaultDataDir, encodeOverlayPng, loadImage, readReasonSeg, Segmenter } from '../sdk/index.js';

const [imageArg, goalArg, out = 'overlay.png'] = process.argv.slice(2);
// Without arguments: the first image of the committed ReasonSeg-Synth test split and its query.
const sample = imageArg ? undefined : (await readReasonSeg(defaultDataDir()))[0];
const image = imageArg ?? sample!.image;
const goal = goalArg ?? sample!.texts[0];

await using seg = await Segmenter.open(); // the embedded model; closed when this scope ends
const frame = await loadImage(image);
const r = await seg.segment(frame, goal);

console.log(`goal: "${goal}"${r.goal.unknown.length ? ` (unknown words: ${r.goal.unknown.join(', ')})` : ''}`);
console.log(r.found ? `found, score ${r.score.toFixed(2)}, ${r.area} px in bbox [${r.bbox?.join(', ')}]` : `not found (score ${r.score.toFixed(2)})`);
console.log(`anchor at (${r.anchor.x.toFixed(0)}, ${r.anchor.y.toFixed(0)}); ${r.timings.total.toFixed(1)} ms`);
await writeFile(out, await encodeOverlayPng(frame, r));
console.log(`overlay -> ${out}`);
