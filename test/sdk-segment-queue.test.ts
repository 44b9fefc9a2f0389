/**
 * segment()'s queue limit (issue 15, item 7): a caller faster than inference used to grow memory
 * without bound. Past OpenOptions.maxQueue pending calls (default DEFAULT_MAX_QUEUE) segment()
 * rejects at once with ERR_BUSY, saying the limit and how many are pending.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import { DEFAULT_MAX_QUEUE } from '../sdk/index.js';
import { Segmenter } from '../sdk/segmenter.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { BUNDLE, expectCode } from './fixtures/sdk-helpers.js';

const frame: Frame = makeFrame('rgb8', 64, 48);

/** Fires `n` segment() calls at once; returns each one's outcome, in the order they settled. */
async function burst(seg: Segmenter, n: number): Promise<{ settled: string[]; outcomes: string[]; messages: string[] }> {
  const settled: string[] = [];
  const messages: string[] = [];
  const calls = Array.from({ length: n }, (_, i) =>
    seg.segment(frame, 'the red cup').then(
      () => {
        settled.push(`ok ${i}`);
        return 'ok';
      },
      (err: { code: string; message: string }) => {
        settled.push(`${err.code} ${i}`);
        messages.push(err.message);
        return err.code;
      },
    ),
  );
  return { settled, outcomes: await Promise.all(calls), messages };
}

describe('OpenOptions.maxQueue', () => {
  let seg: Segmenter;
  beforeAll(async () => {
    seg = await Segmenter.open(BUNDLE, { threads: 1, maxQueue: 2 });
  });
  afterAll(() => seg.close());

  it('refuses calls past the limit at once with ERR_BUSY (limit and pending count in the message); the others run', async () => {
    const { settled, outcomes, messages } = await burst(seg, 5);
    expect(outcomes).toEqual(['ok', 'ok', 'ERR_BUSY', 'ERR_BUSY', 'ERR_BUSY']);
    // the refusals settle before the accepted calls finish
    expect(settled.slice(0, 3)).toEqual(['ERR_BUSY 2', 'ERR_BUSY 3', 'ERR_BUSY 4']);
    expect(messages[0]).toMatch(/^Expected at most 2 pending segment\(\) calls \(OpenOptions\.maxQueue\) but 2 are pending/);
  });

  it('accepts calls again once pending ones settle; failed and aborted calls free their place too', async () => {
    await expectCode(seg.segment(frame, ''), 'ERR_GOAL_EMPTY');
    const controller = new AbortController();
    controller.abort();
    await expectCode(seg.segment(frame, 'cup', { signal: controller.signal }), 'ERR_ABORTED');
    expect((await burst(seg, 2)).outcomes).toEqual(['ok', 'ok']);
  });

  it('does not count the stage methods (a stream uses them)', async () => {
    const image = await seg.encodeImage(frame);
    const banks = await Promise.all([seg.reason(image, 'cup'), seg.reason(image, 'red cup'), seg.reason(image, 'the cup')]);
    expect(banks).toHaveLength(3);
  });
});

describe('the default and bad values', () => {
  it(`default ${DEFAULT_MAX_QUEUE}: the call past it is refused`, async () => {
    const seg = await Segmenter.open(BUNDLE, { threads: 1 });
    try {
      const { outcomes } = await burst(seg, DEFAULT_MAX_QUEUE + 2);
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(DEFAULT_MAX_QUEUE);
      expect(outcomes.slice(DEFAULT_MAX_QUEUE)).toEqual(['ERR_BUSY', 'ERR_BUSY']);
    } finally {
      await seg.close();
    }
  });

  it.each([0, 1.5, -1, Number.NaN, '4'])('refuses maxQueue %s with ERR_INVALID_ARG', async (bad) => {
    const err = await expectCode(Segmenter.open(BUNDLE, { maxQueue: bad as number }), 'ERR_INVALID_ARG');
    expect(err.message).toMatch(/integer >= 1 or Infinity for options\.maxQueue/);
  });
});
