/**
 * `npm run bench -- soak`: a short run reports samples of memory, descriptors, threads and lag,
 * the trends after warm-up and a verdict, and docs/benchmarks.md renders a saved one. (The
 * figures themselves are the benchmark's business, not this test's.)
 */
import { describe, expect, it } from 'vitest';
import { renderBenchmarks } from '../bench/render.js';
import { formatSoakBench, soakBenchmark } from '../bench/soak.js';

describe('soakBenchmark', () => {
  it('samples RSS, heap, fds, threads and lag, and judges the part after warm-up', async () => {
    const r = await soakBenchmark({ minutes: 0.1, sampleSeconds: 0.5, threads: 1 });
    expect(r.frames).toBeGreaterThan(0);
    expect(r.interrupted).toBe(false);
    expect(r.warmupSeconds).toBeCloseTo(1.5);
    expect(r.samples.length).toBeGreaterThan(5);
    for (const s of r.samples) {
      expect(s.fds).toBeGreaterThan(2);
      expect(s.threads).toBeGreaterThan(1);
      expect(s.rssMb).toBeGreaterThan(s.heapMb);
    }
    const last = r.samples.at(-1)!;
    expect(last.frames).toBe(r.frames);
    expect(r.rssGrowthPct).toBeCloseTo(((r.rssMb.end - r.rssMb.start) / r.rssMb.start) * 100);
    expect(r.verdict.pass).toBe(r.verdict.rss && r.verdict.fds && r.verdict.threads);
    expect(formatSoakBench(r)).toMatch(/\nverdict: (PASS|FAIL)$/);

    const run = {
      benchmark: 'soak' as const,
      command: 'npm run bench -- soak --minutes 0.1 --save',
      date: '2026-01-01T00:00:00.000Z',
      commit: 'abc',
      machine: { cpu: 'cpu', cpus: 2, memoryGiB: 8, os: 'linux', node: 'v20.0.0', loadStart: 0, loadEnd: 0 },
      bundle: r.bundle,
      report: r,
    };
    const page = renderBenchmarks({ runs: [{ name: 'soak', run }] });
    expect(page).toContain('## Soak: one long stream');
    expect(page).toContain(`RSS growth ${r.rssGrowthPct.toFixed(2)}%`);
    expect(page).toContain('| open file descriptors |');
  });
});
