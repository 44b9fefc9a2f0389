/**
 * Aborting Segmenter.open() while its engines load (issue 15, item 1). It used to kill the whole
 * process (exit 134, "terminate called after throwing an instance of 'Napi::Error'"): the onnx
 * worker was terminated inside onnxruntime-node's synchronous session creation. Now every abort
 * rejects with ERR_ABORTED, the process lives, and the aborted loads' threads go away.
 * docs/robustness.md lists this.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Segmenter } from '../sdk/segmenter.js';
import { BUNDLE, ROOT, expectCode } from './fixtures/sdk-helpers.js';

describe('aborting Segmenter.open()', () => {
  it('at 25 points spread over a whole open: each one rejects with ERR_ABORTED (or opens), the process lives, no thread is left', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'test', 'fixtures', 'open-abort-child.mjs'), '24'], { encoding: 'utf8', timeout: 400_000 });
    expect(r.stderr).not.toMatch(/terminate called/);
    expect({ status: r.status, signal: r.signal }, r.stderr).toEqual({ status: 0, signal: null });
    const out = JSON.parse(r.stdout) as { baseline: number; left: number; aborted: number; opened: number; other: string[] };
    expect(out.other).toEqual([]);
    expect(out.aborted + out.opened).toBe(25);
    expect(out.aborted).toBeGreaterThan(0);
    // the workers of the aborted opens were terminated once their loads settled
    expect(out.left).toBeLessThanOrEqual(out.baseline);
  });

  it('in this process: an abort soon after the call rejects with ERR_ABORTED, and the next open works', async () => {
    const controller = new AbortController();
    const opening = Segmenter.open(BUNDLE, { threads: 1, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 0));
    controller.abort(new Error('stop'));
    expect((await expectCode(opening, 'ERR_ABORTED')).message).toMatch(/stop/);
    const seg = await Segmenter.open(BUNDLE, { threads: 1 });
    await seg.close();
  });
});
