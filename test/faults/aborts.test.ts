/**
 * AbortSignals at seeded random points of Segmenter.open(), segment() and stream(), in a child
 * process (test/faults/abort-child.mjs): every call finishes or rejects with ERR_ABORTED (a stream
 * ends cleanly), the segmenter works afterwards, no thread is left, and the process ends by itself
 * (nothing leaked keeps it alive). test/sdk-open-abort.test.ts aborts open() at 25 even points;
 * test/stream-abort-close.test.ts covers a stream's abort and close in detail.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ROOT } from '../fixtures/sdk-helpers.js';
import { CRASH, HANG_MS, random, seedLine } from './harness.js';

beforeAll(() => {
  console.log(seedLine('aborts'));
});

const rnd = random('aborts');
const points = {
  open: Array.from({ length: 6 }, rnd),
  segment: Array.from({ length: 12 }, () => rnd() * 1.5),
  stream: Array.from({ length: 6 }, () => rnd() * 1.5),
};

it(`open() x${points.open.length}, segment() x${points.segment.length}, stream() x${points.stream.length} aborted at random points: ERR_ABORTED or done, then the process exits by itself`, async () => {
  const child = spawn(process.execPath, [path.join(ROOT, 'test', 'faults', 'abort-child.mjs'), JSON.stringify(points), path.join(ROOT, 'models', 'data', 'reasonseg-synth', 'sequences', 'seq00')]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  expect(stderr).not.toMatch(CRASH);
  expect(exit, `${stderr}\n(SIGKILL: still running after ${HANG_MS} ms)`).toEqual({ code: 0, signal: null });
  const out = JSON.parse(stdout);
  for (const kind of ['open', 'segment', 'stream'] as const) {
    expect(out[kind], kind).toHaveLength(points[kind].length);
    for (const outcome of out[kind]) expect(['done', 'aborted'], `${kind}: ${outcome}`).toContain(outcome);
  }
  expect(out.after).toBe(320);
  expect(out.left).toBeLessThanOrEqual(out.baseline);
});
