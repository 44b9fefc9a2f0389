import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AnchorSegError, invalidArg } from '../base/errors.js';
import { IGNORE } from './metrics.js';

/** A polygon annotation of a ReasonSeg sample (LabelMe style). */
export interface Shape {
  label: string;
  points: [number, number][];
}

/** One `<id>.jpg` + `<id>.json` pair of a ReasonSeg-format folder. */
export interface ReasonSegSample {
  id: string;
  image: string;
  /** The queries; evaluation uses the first, as LISA does. */
  texts: string[];
  /** A long (sentence) query rather than a short phrase. */
  isSentence: boolean;
  shapes: Shape[];
}

/**
 * Every sample of a ReasonSeg-format folder, sorted by id; a JSON file without its JPEG is
 * skipped (models/anchorseg/reasonseg.py reads folders the same way).
 */
export async function readReasonSeg(folder: string): Promise<ReasonSegSample[]> {
  if (typeof folder !== 'string' || folder.length === 0) throw invalidArg('folder', 'a path string', folder);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (err) {
    throw new AnchorSegError(
      'ERR_DATA_INVALID',
      `Expected a ReasonSeg folder of <id>.jpg + <id>.json pairs at ${folder} but it cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      { cause: err },
    );
  }
  const present = new Set(names);
  const samples: ReasonSegSample[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const id = name.slice(0, -'.json'.length);
    if (!present.has(`${id}.jpg`)) continue;
    samples.push(parseSample(id, path.join(folder, `${id}.jpg`), path.join(folder, name), await readFile(path.join(folder, name), 'utf8')));
  }
  if (samples.length === 0) throw new AnchorSegError('ERR_DATA_INVALID', `Expected at least one <id>.jpg + <id>.json pair in ${folder} but found none`);
  return samples;
}

function parseSample(id: string, image: string, file: string, text: string): ReasonSegSample {
  const bad = (what: string, value: unknown) => invalidArg(`${what} in ${file}`, what === 'file' ? 'JSON' : describeExpected(what), value, 'ERR_DATA_INVALID');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new AnchorSegError('ERR_DATA_INVALID', `Expected JSON in ${file} but it does not parse: ${(err as Error).message}`, { cause: err });
  }
  if (typeof json !== 'object' || json === null) throw bad('file', json);
  const texts = typeof json.text === 'string' ? [json.text] : json.text;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) throw bad('text', json.text);
  const shapes = json.shapes ?? [];
  if (!Array.isArray(shapes)) throw bad('shapes', shapes);
  return {
    id,
    image,
    texts: texts as string[],
    isSentence: Boolean(json.is_sentence),
    shapes: shapes.map((s: unknown, i): Shape => {
      const o = s as Record<string, unknown> | null;
      const points = o?.points;
      const ok = Array.isArray(points) && points.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v)));
      if (!ok) throw bad(`shapes[${i}].points`, points);
      return { label: typeof o?.label === 'string' ? o.label : '', points: points as [number, number][] };
    }),
  };
}

function describeExpected(what: string): string {
  if (what === 'text') return 'a query string or a non-empty list of them';
  if (what === 'shapes') return 'a list of polygons';
  return 'a list of [x, y] number pairs';
}

/**
 * 1 inside the union of the polygons, else 0 (row-major `width x height`). Pixel (x, y) is inside
 * when its centre (x + 0.5, y + 0.5) is, by the even-odd rule in float64: the same rule, and the
 * same arithmetic, as models/anchorseg/reasonseg.py.
 */
export function rasterizePolygons(polygons: readonly (readonly [number, number][])[], width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (const poly of polygons) {
    if (poly.length < 3) continue;
    const xs = poly.map((p) => p[0]);
    const ys = poly.map((p) => p[1]);
    const x0 = Math.max(0, Math.floor(Math.min(...xs) - 0.5));
    const x1 = Math.min(width, Math.ceil(Math.max(...xs) + 0.5) + 1);
    const y0 = Math.max(0, Math.floor(Math.min(...ys) - 0.5));
    const y1 = Math.min(height, Math.ceil(Math.max(...ys) + 0.5) + 1);
    for (let y = y0; y < y1; y++) {
      const py = y + 0.5;
      for (let x = x0; x < x1; x++) {
        const px = x + 0.5;
        let inside = false;
        for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
          const [xi, yi] = poly[i];
          const [xj, yj] = poly[j];
          if (yi === yj) continue;
          if (yi > py !== yj > py && px < xi + ((py - yi) * (xj - xi)) / (yj - yi)) inside = !inside;
        }
        if (inside) out[y * width + x] = 1;
      }
    }
  }
  return out;
}

/**
 * Ground truth as LISA paints it: shapes labelled "flag" are skipped, labels containing "ignore"
 * are 255 (not scored), others 1; larger shapes are painted first so a smaller one on top wins.
 */
export function groundTruth(shapes: readonly Shape[], width: number, height: number): Uint8Array {
  const layers = shapes
    .filter((s) => s.label.toLowerCase() !== 'flag')
    .map((s, order) => {
      const mask = rasterizePolygons([s.points], width, height);
      let area = 0;
      for (const v of mask) area += v;
      return { area, order, value: s.label.includes('ignore') ? IGNORE : 1, mask };
    })
    .sort((a, b) => b.area - a.area || a.order - b.order);
  const gt = new Uint8Array(width * height);
  for (const { mask, value } of layers) for (let i = 0; i < mask.length; i++) if (mask[i]) gt[i] = value;
  return gt;
}
