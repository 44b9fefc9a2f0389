/**
 * A pyzmq client (test/zmq/peer.py) sets goals and pushes frames to a real AnchorSegServer;
 * every result it receives must be exactly what `segment()` gives for the same frame and goal
 * (same model, same frames): mask bytes, RLE (ours and pycocotools' of the received mask), score,
 * bbox, anchor, stamp.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Segmenter, loadImage, toRle, type Frame, type SegmentResult } from '../sdk/index.js';
import { encodeFrame } from '../zmq/index.js';
import { makeFrame } from './fixtures/kernels-frames.js';
import { ROOT, removeTemps, tempDir } from './fixtures/sdk-helpers.js';
import { openServer, peer } from './zmq/harness.js';

const TEST_DIR = path.join(ROOT, 'models', 'data', 'reasonseg-synth', 'test');
const GOALS = ['the green banana', 'which object can you drink from', 'highlight the zorblax next to the lamp'];

let seg: Segmenter;
beforeAll(async () => {
  seg = await Segmenter.open();
});
afterAll(async () => {
  await seg?.close();
  await removeTemps();
});

/** Real scenes and synthetic frames in every byte layout the wire format carries (padded rows, 1-4 channels). */
async function frames(): Promise<{ frame: Frame; goal: string }[]> {
  const scenes = await Promise.all(['00000', '00001', '00002', '00003'].map((n) => loadImage(path.join(TEST_DIR, `${n}.jpg`))));
  const synthetic = [makeFrame('bgr8', 96, 80, 5, 11), makeFrame('mono8', 120, 90, 3, 12), makeFrame('rgba8', 64, 64, 0, 13), makeFrame('bgra8', 33, 17, 2, 14)];
  return [...scenes, ...synthetic].map((f, i) => ({
    frame: { ...f, frameId: `frame-${i}`, stamp: { sec: 1700000000 + i, nanosec: (123456789 * (i + 1)) % 1e9 } },
    goal: GOALS[Math.floor((i * GOALS.length) / 8)],
  }));
}

test('results a pyzmq client receives equal segment() on the same frames and goals, byte for byte', async () => {
  const inputs = await frames();
  const direct: SegmentResult[] = [];
  for (const { frame, goal } of inputs) direct.push(await seg.segment(frame, goal));

  const dir = await tempDir('anchorseg-zmq-');
  const listing = [];
  for (const [i, { frame, goal }] of inputs.entries()) {
    const [header, pixels] = encodeFrame(frame);
    await writeFile(path.join(dir, `${i}.raw`), pixels);
    listing.push({ header: JSON.parse(header.toString()), file: `${i}.raw`, goal });
  }
  await writeFile(path.join(dir, 'frames.json'), JSON.stringify(listing));

  // Reasoning on every frame: the bank is made on the frame it decodes, as segment() does.
  await using server = await openServer(seg, { reason: { every: 1 } });
  const client = peer('interop', server.endpoints, ['--frames-dir', dir]);
  const events = await client.done();

  const goals = events.filter((e) => e.event === 'goal').map((e) => e.reply);
  expect(goals).toEqual([
    { v: 2, ok: true, goal: GOALS[0], unknownWords: [] },
    { v: 2, ok: true, goal: GOALS[1], unknownWords: [] },
    { v: 2, ok: true, goal: GOALS[2], unknownWords: ['zorblax'] },
  ]);
  const results = events.filter((e) => e.event === 'result');
  expect(results).toHaveLength(inputs.length);
  for (const [i, r] of results.entries()) {
    const d = direct[i];
    const { frame, goal } = inputs[i];
    const rle = toRle(d);
    expect({ frameId: r.frameId, seq: r.seq, goal: r.goal, width: r.width, height: r.height, stamp: r.stamp }).toEqual({
      frameId: frame.frameId,
      seq: i,
      goal,
      width: frame.width,
      height: frame.height,
      stamp: frame.stamp,
    });
    expect(r.maskSha256, `mask of ${frame.frameId}`).toBe(createHash('sha256').update(d.mask).digest('hex'));
    expect(r.headerRle).toEqual(rle);
    expect(r.rleTopicRle).toEqual(rle);
    expect(r.cocoRle, 'pycocotools RLE of the received mask').toBe(rle.counts);
    expect(r.maskValues.every((v: number) => v === 0 || v === 255)).toBe(true);
    expect({ score: r.score, found: r.found, notFoundReason: r.notFoundReason, bbox: r.bbox, area: r.area, anchor: r.anchor }).toEqual({
      score: d.score,
      found: d.found,
      notFoundReason: d.notFoundReason,
      bbox: d.bbox,
      area: d.area,
      anchor: d.anchor,
    });
  }
  // Not a vacuous pass: the masks differ from frame to frame.
  expect(new Set(results.map((r) => r.maskSha256)).size).toBeGreaterThan(1);

  const { status } = events.find((e) => e.event === 'status')!.reply;
  expect(status.counters).toMatchObject({ received: inputs.length, invalid: 0, dropped: 0, results: inputs.length, failures: 0 });
  expect(status.goal).toBe(GOALS[2]);
});
