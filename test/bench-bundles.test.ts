/**
 * `npm run bench -- bundles`: one bundle's per-frame latency against another's in one run. The
 * embedded bundle against a copy of itself: the report pairs the two and renders into
 * docs/benchmarks.md; a baseline that is not a bundle is refused with the bundle's coded error.
 * (The figures are the benchmark's business, not this test's.)
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundlesBenchmark, formatBundlesBench, LATENCY_RATIO_MAX } from '../bench/bundles.js';
import { renderBenchmarks } from '../bench/render.js';
import { defaultBundleDir } from '../sdk/model/bundle.js';

describe('bundlesBenchmark', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'anchorseg-bench-bundles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('times both bundles in every round and renders the ratio', async () => {
    const copy = path.join(dir, 'copy');
    cpSync(defaultBundleDir(), copy, { recursive: true });
    const r = await bundlesBenchmark({ againstDir: copy, calls: 3, rounds: 2, threads: 1 });
    expect(r.roundRatios).toHaveLength(2);
    expect(r.latencyRatio).toBeGreaterThan(0);
    expect(r.candidate.name).toBe('anchorseg-tiny');
    expect(r.baseline.version).toBe(r.candidate.version);
    for (const b of [r.candidate, r.baseline]) {
      expect(b.segmentMs).toBeGreaterThan(0);
      expect(b.stages.vision + b.stages.reasoner + b.stages.decoder).toBeLessThanOrEqual(b.segmentMs * 1.5);
    }
    expect(formatBundlesBench(r)).toContain(`target <= ${LATENCY_RATIO_MAX}`);

    const run = {
      benchmark: 'bundles' as const,
      command: `npm run bench -- bundles --against ${copy} --save`,
      date: '2026-01-01T00:00:00.000Z',
      commit: 'abc',
      machine: { cpu: 'cpu', cpus: 2, memoryGiB: 8, os: 'linux', node: 'v20.0.0', loadStart: 0, loadEnd: 0 },
      bundle: `${r.candidate.name} ${r.candidate.version}`,
      report: r,
    };
    const page = renderBenchmarks({ runs: [{ name: 'bundles', run }] });
    expect(page).toContain('## One model against another: per-frame latency');
    expect(page).toContain(`**latencyRatio ${r.latencyRatio.toFixed(3)}**`);
  });

  it('refuses a baseline that is not a bundle', async () => {
    await expect(bundlesBenchmark({ againstDir: dir, calls: 1, rounds: 1 })).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_BUNDLE/) });
  });
});
