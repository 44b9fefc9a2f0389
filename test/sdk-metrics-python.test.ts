/**
 * LISA metrics and ReasonSeg ground truth: hand-checked cases, then the TypeScript results against
 * the Python evaluation (models/anchorseg/metrics.py, reasonseg.py) on the same inputs.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { intersectionUnion, report, scores } from '../sdk/data/metrics.js';
import { groundTruth, rasterizePolygons, readReasonSeg, type Shape } from '../sdk/data/reasonseg.js';
import { expectCode, python, removeTemps, tempDir } from './fixtures/sdk-helpers.js';

afterAll(removeTemps);

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

describe('LISA metrics', () => {
  const m = (...v: number[]) => Uint8Array.from(v);

  it('counts foreground intersection and union, ignoring ground-truth 255', () => {
    expect(intersectionUnion(m(255, 255, 0, 0), m(1, 1, 0, 0))).toEqual({ intersection: 2, union: 2 });
    expect(intersectionUnion(m(255, 0, 255, 0), m(1, 1, 0, 0))).toEqual({ intersection: 1, union: 3 });
    expect(intersectionUnion(m(255, 255, 255), m(255, 1, 0))).toEqual({ intersection: 1, union: 2 });
    expect(intersectionUnion(m(0, 0), m(0, 255))).toEqual({ intersection: 0, union: 0 });
  });

  it('gIoU averages I/(U+1e-5) with empty-vs-empty counting 1; cIoU pools', () => {
    const s = scores([
      { intersection: 1, union: 3 },
      { intersection: 0, union: 0 },
      { intersection: 4, union: 4 },
    ]);
    expect(s.n).toBe(3);
    expect(s.gIoU).toBeCloseTo((1 / (3 + 1e-5) + 1 + 4 / (4 + 1e-5)) / 3, 12);
    expect(s.cIoU).toBeCloseTo(5 / (7 + 1e-10), 12);
    expect(scores([])).toEqual({ gIoU: 0, cIoU: 0, n: 0 });
  });

  it('splits short and long queries', () => {
    const r = report(
      [
        { intersection: 1, union: 2 },
        { intersection: 2, union: 2 },
      ],
      [false, true],
    );
    expect(r.short.n).toBe(1);
    expect(r.long.n).toBe(1);
    expect(r.short.gIoU).toBeCloseTo(0.5, 4);
    expect(r.long.gIoU).toBeCloseTo(1, 4);
  });

  it('refuses mismatched sizes with a coded error', async () => {
    await expectCode(() => intersectionUnion(m(1, 0), m(1)), 'ERR_INVALID_ARG');
    await expectCode(() => report([{ intersection: 1, union: 1 }], []), 'ERR_INVALID_ARG');
  });

  it('equals python -m anchorseg.metrics on the same random pairs', async () => {
    const rand = rng(7);
    const items = [];
    for (let k = 0; k < 40; k++) {
      const width = 3 + Math.floor(rand() * 20);
      const height = 3 + Math.floor(rand() * 20);
      const n = width * height;
      const density = k % 5 === 0 ? 0 : rand();
      const pred = Array.from({ length: n }, () => (rand() < density ? 1 : 0));
      const gt = Array.from({ length: n }, () => {
        const r = rand();
        return k % 7 === 0 ? 0 : r < 0.05 ? 255 : r < 0.5 ? 1 : 0;
      });
      items.push({ width, height, pred, gt, is_sentence: rand() < 0.4 });
    }
    const file = path.join(await tempDir(), 'pairs.json');
    await writeFile(file, JSON.stringify(items));
    const py = JSON.parse(python(['-m', 'anchorseg.metrics', '--pairs', file]));
    const ts = report(
      items.map((it) => intersectionUnion(Uint8Array.from(it.pred), Uint8Array.from(it.gt))),
      items.map((it) => it.is_sentence),
    );
    for (const split of [ts, ts.short, ts.long].map((s, i) => [s, [py, py.short, py.long][i]] as const)) {
      expect(split[0].n).toBe(split[1].n);
      expect(split[0].gIoU).toBeCloseTo(split[1].gIoU, 12);
      expect(split[0].cIoU).toBeCloseTo(split[1].cIoU, 12);
    }
  });
});

describe('ReasonSeg ground truth', () => {
  it('fills a pixel when its centre is inside (even-odd rule)', () => {
    // a 2x2 square from (1,1) to (3,3): pixel centres 1.5 and 2.5 are inside
    const mask = rasterizePolygons(
      [
        [
          [1, 1],
          [3, 1],
          [3, 3],
          [1, 3],
        ],
      ],
      4,
      4,
    );
    expect([...mask]).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    // a self-overlapping star leaves its centre empty under even-odd
    const star: [number, number][] = [
      [10, 0],
      [16, 20],
      [0, 7],
      [20, 7],
      [4, 20],
    ];
    expect(rasterizePolygons([star], 21, 21)[10 * 21 + 10]).toBe(0);
    expect(
      rasterizePolygons(
        [
          [
            [0, 0],
            [5, 5],
          ],
        ],
        6,
        6,
      ).every((v) => v === 0),
    ).toBe(true);
  });

  it('paints larger shapes first, ignore labels as 255, skips flags', () => {
    const shapes: Shape[] = [
      {
        label: 'target',
        points: [
          [2, 2],
          [4, 2],
          [4, 4],
          [2, 4],
        ],
      },
      {
        label: 'ignore',
        points: [
          [0, 0],
          [6, 0],
          [6, 6],
          [0, 6],
        ],
      },
      {
        label: 'flag',
        points: [
          [0, 0],
          [1, 0],
          [1, 1],
        ],
      },
    ];
    const gt = groundTruth(shapes, 6, 6);
    expect(gt[0]).toBe(255);
    expect(gt[3 * 6 + 3]).toBe(1);
  });

  it('equals models/anchorseg/reasonseg.py on random polygons (rasteriser and LISA painting)', () => {
    const rand = rng(11);
    const cases = [];
    for (let k = 0; k < 30; k++) {
      const width = 5 + Math.floor(rand() * 60);
      const height = 5 + Math.floor(rand() * 60);
      const shapes: Shape[] = [];
      for (let s = 0; s < 1 + Math.floor(rand() * 3); s++) {
        const n = 3 + Math.floor(rand() * 8);
        // quarter-pixel coordinates put many vertices and edges exactly on pixel centres
        const points = Array.from({ length: n }, () => [Math.round(rand() * (width + 4) * 4) / 4 - 2, Math.round(rand() * (height + 4) * 4) / 4 - 2] as [number, number]);
        shapes.push({ label: ['target', 'ignore', 'target-ignore', 'flag'][Math.floor(rand() * 4)], points });
      }
      cases.push({ width, height, shapes });
    }
    const script = [
      'import json, sys',
      'from anchorseg.reasonseg import gt_mask',
      'cases = json.load(sys.stdin)',
      'print(json.dumps([gt_mask(c["shapes"], c["height"], c["width"]).reshape(-1).tolist() for c in cases]))',
    ].join('\n');
    const py = JSON.parse(python(['-c', script], JSON.stringify(cases))) as number[][];
    for (const [k, c] of cases.entries()) expect([...groundTruth(c.shapes, c.width, c.height)], `case ${k}`).toEqual(py[k]);
  });

  it('reads a ReasonSeg folder sorted by id, refusing bad JSON with ERR_DATA_INVALID', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'b.json'), JSON.stringify({ text: 'the cup', is_sentence: false, shapes: [] }));
    await writeFile(path.join(dir, 'b.jpg'), '');
    await writeFile(
      path.join(dir, 'a.json'),
      JSON.stringify({
        text: ['q1', 'q2'],
        is_sentence: true,
        shapes: [
          {
            label: 'target',
            points: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
          },
        ],
      }),
    );
    await writeFile(path.join(dir, 'a.jpg'), '');
    await writeFile(path.join(dir, 'orphan.json'), '{}');
    const samples = await readReasonSeg(dir);
    expect(samples.map((s) => [s.id, s.texts, s.isSentence])).toEqual([
      ['a', ['q1', 'q2'], true],
      ['b', ['the cup'], false],
    ]);
    await writeFile(path.join(dir, 'c.json'), '{ nope');
    await writeFile(path.join(dir, 'c.jpg'), '');
    expect((await expectCode(readReasonSeg(dir), 'ERR_DATA_INVALID')).message).toContain('c.json');
    await writeFile(path.join(dir, 'c.json'), JSON.stringify({ text: 'x', shapes: [{ label: 't', points: [[0, 'a']] }] }));
    expect((await expectCode(readReasonSeg(dir), 'ERR_DATA_INVALID')).message).toMatch(/shapes\[0\]\.points in .*c\.json/);
    await expectCode(readReasonSeg(path.join(dir, 'missing')), 'ERR_DATA_INVALID');
  });
});
