// `anchorseg ros` against rclpy peers on a real ROS 2 graph: a camera publishing a ReasonSeg-Synth
// moving sequence best-effort, listeners on mask / segmentation / overlay / diagnostics, goals by
// topic and by parameter, malformed images.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import { ANCHOR_ARM, OUTLINE_CORE, rleEncode } from '../sdk/kernels/index.js';
import { intersectionUnion, scores } from '../sdk/data/metrics.js';
import { groundTruth } from '../sdk/data/reasonseg.js';
import { Segmenter } from '../sdk/segmenter.js';
import { sequenceFrames, sequences } from './fixtures/stream-frames.js';
import { describeRos, isolateDomain, NodeProcess, Peer, type PeerEvent } from './ros/harness.js';

const FRAMES = 20;
const FIRST_SEC = 1000;
const stampKey = (s: { sec: number; nanosec: number }) => `${s.sec}_${s.nanosec}`;

describeRos('anchorseg ros: rclpy camera -> node -> rclpy listeners', () => {
  let dir: string;
  let framesFile: string;
  let frames: Frame[];
  let goals: string[];
  let node: NodeProcess;

  beforeAll(async () => {
    isolateDomain();
    dir = mkdtempSync(path.join(tmpdir(), 'anchorseg-ros-'));
    frames = await sequenceFrames(0, FRAMES);
    goals = (await sequences()).map((s) => s.goal);
    framesFile = path.join(dir, 'frames.rgb');
    writeFileSync(framesFile, Buffer.concat(frames.map((f) => f.data)));
    // Per-frame reasoning: every mask must then equal Segmenter.segment() on the same frame.
    node = new NodeProcess(['--goal', goals[0], '--reason-every', '1', '--threads', '1']);
    await node.ready();
  }, 120_000);

  afterAll(async () => {
    await node?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const camera = (extra: string[] = []) =>
    new Peer([
      'camera',
      '--frames-file',
      framesFile,
      '--width',
      '320',
      '--height',
      '240',
      '--count',
      String(FRAMES),
      '--rate',
      '15',
      '--first-sec',
      String(FIRST_SEC),
      '--frame-id',
      'synth_cam',
      ...extra,
    ]);

  it('publishes masks with the input stamp and frame_id, equal to Segmenter.segment() on those frames, with matching metadata', async () => {
    const dump = path.join(dir, 'masks');
    // --wait-publishers: ready once the node's publisher is seen, so a loaded machine's slow discovery loses no mask.
    // The listeners outlive every wait below, so a slow step fails with its own message.
    const masks = new Peer(['listen', '--topic', 'mask', '--qos', 'reliable', '--depth', '30', '--dump', dump, '--timeout', '240', '--wait-publishers', '1']);
    const meta = new Peer(['listen', '--topic', 'segmentation', '--type', 'segmentation', '--qos', 'reliable', '--depth', '30', '--timeout', '240', '--wait-publishers', '1']);
    let received: PeerEvent[];
    let metadata: PeerEvent[];
    try {
      await Promise.all([masks.next('ready'), meta.next('ready')]);
      // The camera stays up until its last frame's mask is out, as a real one would.
      const cam = camera(['--linger', '240']);
      try {
        await cam.next('done', 60_000);
        // Latest frame wins never drops the newest frame: the last one must come out.
        await masks.next('image', 90_000, (e) => (e.stamp as { sec: number }).sec === FIRST_SEC + FRAMES - 1);
        await meta.next('segmentation', 30_000, (e) => (e.message as { header: { stamp: { sec: number } } }).header.stamp.sec === FIRST_SEC + FRAMES - 1);
      } finally {
        await cam.close();
      }
      received = masks.all('image');
      metadata = meta.all('segmentation');
    } finally {
      await Promise.all([masks.close(), meta.close()]);
    }
    // Best effort + latest frame wins: some frames are dropped while the model is busy; none is invented.
    expect(received.length).toBeGreaterThan(0);
    const seg = await Segmenter.open(undefined, { threads: 1 });
    try {
      const seq = (await sequences())[0];
      const pairsRos = [];
      for (const m of received) {
        const stamp = m.stamp as { sec: number; nanosec: number };
        const index = stamp.sec - FIRST_SEC;
        expect(index).toBeGreaterThanOrEqual(0);
        expect(index).toBeLessThan(FRAMES);
        expect(stamp.nanosec).toBe(1000 * index);
        expect(m).toMatchObject({ frame_id: 'synth_cam', width: 320, height: 240, encoding: 'mono8', step: 320, bytes: 320 * 240 });
        const mask = new Uint8Array(readFileSync(m.file as string));
        const direct = await seg.segment(frames[index], goals[0]);
        expect(Buffer.from(mask).equals(Buffer.from(direct.mask))).toBe(true);
        pairsRos.push(intersectionUnion(mask, groundTruth(seq.frames[index].shapes, 320, 240)));
        const info = metadata.find((e) => stampKey((e.message as { header: { stamp: { sec: number; nanosec: number } } }).header.stamp) === stampKey(stamp));
        expect(info, `segmentation message for stamp ${stampKey(stamp)}`).toBeDefined();
        const msg = info!.message as Record<string, unknown>;
        expect(msg.header).toEqual({ stamp, frame_id: 'synth_cam' });
        expect(msg).toMatchObject({ goal: goals[0], width: 320, height: 240, area: direct.area, rle_counts: rleEncode(mask, 320, 240).counts, bank_age_frames: 0 });
        expect(msg.score as number).toBeCloseTo(direct.score, 5);
        expect(msg.bbox).toEqual(direct.bbox ?? [0, 0, 0, 0]);
      }
      // Accuracy through ROS is the model's accuracy: the floor comes from the bundle's own
      // test score (an untrained bundle reports none, and then only exactness above is checked).
      const reported = seg.manifest.metrics?.test?.gIoU;
      const { gIoU } = scores(pairsRos);
      console.info(`ROS masks: ${received.length}/${FRAMES} frames, gIoU vs ground truth ${gIoU.toFixed(3)} (bundle test gIoU: ${reported ?? 'not reported'})`);
      if (reported) expect(gIoU).toBeGreaterThanOrEqual(0.5 * reported);
    } finally {
      await seg.close();
    }
  }, 300_000);

  it('takes masks from a reliable camera too (the sensor-data subscription accepts it)', async () => {
    const masks = new Peer(['listen', '--topic', 'mask', '--qos', 'reliable', '--count', '1', '--timeout', '60', '--wait-publishers', '1']);
    try {
      await masks.next('ready');
      const cam = camera(['--qos', 'reliable', '--first-sec', '5000']);
      const got = await masks.next('image', 60_000).finally(() => cam.close());
      expect((got.stamp as { sec: number }).sec).toBeGreaterThanOrEqual(5000);
    } finally {
      await masks.close();
    }
  }, 90_000);

  it('switches goal by topic and by parameter, keeps the parameter in step, refuses bad values with a reason', async () => {
    const meta = new Peer(['listen', '--topic', 'segmentation', '--type', 'segmentation', '--qos', 'reliable', '--timeout', '120']);
    const goalOf = (e: PeerEvent) => (e.message as { goal: string }).goal;
    await meta.next('ready');
    // A long-running camera: the goal changes while frames flow.
    const cam = new Peer(['camera', '--frames-file', framesFile, '--width', '320', '--height', '240', '--count', '2000', '--rate', '10']);
    const topicGoal = new Peer(['goal', '--data', goals[1], '--wait-subscribers', '1', '--timeout', '60']);
    try {
      await meta.next('segmentation', 60_000, (e) => goalOf(e) === goals[1]);
      const byTopic = meta.all('segmentation').find((e) => goalOf(e) === goals[1])!.message as { bank_reason: string; bank_age_frames: number; found: boolean; not_found_reason: string };
      expect(byTopic).toMatchObject({ bank_reason: 'goal-change', bank_age_frames: 0 });
      // Why not found travels with found: empty exactly when found.
      expect(byTopic.not_found_reason === '').toBe(byTopic.found);
      const param = new Peer(['get-param', '--node', '/anchorseg', '--name', 'goal']);
      expect((await param.next('value')).value).toMatchObject({ string_value: goals[1] });

      const set = new Peer(['set-param', '--node', '/anchorseg', '--name', 'goal', '--value', goals[2]]);
      expect(await set.next('result')).toMatchObject({ successful: true });
      await meta.next('segmentation', 60_000, (e) => goalOf(e) === goals[2]);

      const empty = new Peer(['set-param', '--node', '/anchorseg', '--name', 'goal', '--value', '   ']);
      const refused = await empty.next('result');
      expect(refused.successful).toBe(false);
      expect(refused.reason).toMatch(/goal/i);
      const readOnly = new Peer(['set-param', '--node', '/anchorseg', '--name', 'bundle', '--value', '/tmp/elsewhere']);
      expect((await readOnly.next('result')).successful).toBe(false);
      const wrongType = new Peer(['set-param', '--node', '/anchorseg', '--name', 'score_threshold', '--value', 'true', '--type', 'bool']);
      expect((await wrongType.next('result')).successful).toBe(false);

      // score_threshold 1: every score is below it, so masks go out empty and found is false.
      const strict = new Peer(['set-param', '--node', '/anchorseg', '--name', 'score_threshold', '--value', '1.0', '--type', 'double']);
      expect(await strict.next('result')).toMatchObject({ successful: true });
      const mark = meta.all('segmentation').length;
      const blank = await meta.next('segmentation', 60_000, (e) => meta.all('segmentation').indexOf(e) > mark + 1);
      expect(blank.message).toMatchObject({ goal: goals[2], found: false, area: 0, bbox: [0, 0, 0, 0] });
      const relaxed = new Peer(['set-param', '--node', '/anchorseg', '--name', 'score_threshold', '--value', '0.0', '--type', 'double']);
      expect(await relaxed.next('result')).toMatchObject({ successful: true });
    } finally {
      await Promise.all([cam.close(), topicGoal.close(), meta.close()]);
    }
  }, 180_000);

  it('logs malformed images with the reason, skips them, and keeps segmenting', async () => {
    const diag = new Peer(['listen', '--topic', '/diagnostics', '--type', 'diagnostics', '--qos', 'reliable', '--timeout', '90']);
    await diag.next('ready');
    const bad = new Peer(['bad']);
    await bad.next('done', 30_000).finally(() => bad.close());
    const invalid = (e: PeerEvent) => Number((e.status as { values: Record<string, string> }[])[0].values.invalid);
    try {
      await diag.next('diagnostics', 30_000, (e) => invalid(e) >= 4);
    } finally {
      await diag.close();
    }
    expect(node.stderr).toMatch(/skipping image: Expected integer >= 192 .*step.* but received 128/);
    expect(node.stderr).toMatch(/skipping image: Expected image encoding one of rgb8, .* but received "bayer_rggb8"/);
    expect(node.stderr).toMatch(/skipping image: Expected at least 9216 bytes of data for a 64x48 rgb8 frame with step 192 but received 4608/);
    expect(node.stderr).toMatch(/skipping image: Expected integer between 1 and 16384 for frame.width but received 0/);
    // Still alive and segmenting.
    const masks = new Peer(['listen', '--topic', 'mask', '--qos', 'reliable', '--count', '1', '--timeout', '60', '--wait-publishers', '1']);
    try {
      await masks.next('ready');
      const cam = camera(['--first-sec', '7000']);
      await masks.next('image', 60_000).finally(() => cam.close());
    } finally {
      await masks.close();
    }
  }, 120_000);

  it('reports rates, latency, drops and reasoner runs on /diagnostics, and computes the overlay only while it has subscribers', async () => {
    const diag = new Peer(['listen', '--topic', '/diagnostics', '--type', 'diagnostics', '--qos', 'reliable', '--timeout', '120', '--wait-publishers', '1']);
    await diag.next('ready');
    const values = (e: PeerEvent) => (e.status as { values: Record<string, string> }[])[0].values;
    // The camera runs 1.3 s: on a loaded machine the listener's subscription can match the node's
    // publisher only after that, and then every message it gets reports fps 0. Run it again then.
    let busy: PeerEvent | undefined;
    for (let run = 0; !busy && run < 3; run++) {
      const cam = camera(['--first-sec', String(8000 + 100 * run)]);
      try {
        busy = await diag.next('diagnostics', 20_000, (e) => Number(values(e).fps) > 0).catch(() => undefined);
      } finally {
        await cam.next('done', 60_000).finally(() => cam.close());
      }
    }
    expect(busy, 'a diagnostics message from a window with frames in it').toBeDefined();
    const status = (busy!.status as { level: number; name: string; message: string }[])[0];
    expect(status).toMatchObject({ level: 0, name: 'anchorseg: anchorseg' });
    const v = values(busy!);
    for (const key of ['fps', 'input_rate_hz', 'latency_ms_mean', 'latency_ms_max', 'reasoner_rate_hz', 'received', 'invalid', 'dropped', 'results', 'failures', 'banks', 'goal', 'backend'])
      expect(v).toHaveProperty(key);
    expect(Number(v.latency_ms_mean)).toBeGreaterThan(0);
    expect(Number(v.reasoner_rate_hz)).toBeGreaterThan(0); // reason_every 1: a run per mask
    expect(v.overlays).toBe('0'); // nobody listened to overlay yet
    const listen = (topic: string, dump: string) =>
      new Peer(['listen', '--topic', topic, '--qos', 'reliable', '--depth', '30', '--dump', path.join(dir, dump), '--timeout', '60', '--wait-publishers', '1']);
    const overlay = listen('overlay', 'overlay');
    const masks = listen('mask', 'overlay-masks');
    try {
      await Promise.all([overlay.next('ready'), masks.next('ready')]);
      const cam = camera(['--first-sec', '9000']);
      await overlay.next('image', 60_000);
      await cam.next('done', 60_000).finally(() => cam.close());
      // A frame both listeners received (each may have matched the node's publisher a frame
      // or two after the other: messages sent before a match are not delivered).
      const stamp = (e: PeerEvent) => stampKey(e.stamp as { sec: number; nanosec: number });
      const withMask = (): [PeerEvent, PeerEvent] | undefined => {
        const maskByStamp = new Map(masks.all('image').map((e) => [stamp(e), e]));
        const o = overlay.all('image').find((e) => maskByStamp.has(stamp(e)));
        return o && [o, maskByStamp.get(stamp(o))!];
      };
      let pair = withMask();
      for (let tries = 0; !pair && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        pair = withMask();
      }
      expect(pair).toBeDefined();
      const [o, m] = pair!;
      expect(o).toMatchObject({ frame_id: 'synth_cam', encoding: 'rgb8', width: 320, height: 240, step: 960 });
      // Away from the mask and its marks the overlay is the camera image itself: the outline's
      // dark ring hugs the mask, the bbox lines lie on its extent, and only the anchor cross
      // (at the token map's peak, which may lie anywhere) is drawn elsewhere.
      const frame = frames[(o.stamp as { sec: number }).sec - 9000];
      const mask = new Uint8Array(readFileSync(m.file as string));
      const rgb = new Uint8Array(readFileSync(o.file as string));
      const { width, height } = frame;
      let [x0, y0, x1, y1] = [width, height, -1, -1];
      for (let i = 0; i < mask.length; i++) {
        if (!mask[i]) continue;
        const x = i % width;
        const y = (i - x) / width;
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
      const nearMask = (x: number, y: number) => x >= x0 - 2 && x <= x1 + 2 && y >= y0 - 2 && y <= y1 + 2;
      let mismatches = 0;
      for (let i = 0; i < mask.length; i++) {
        const x = i % width;
        if (nearMask(x, (i - x) / width)) continue;
        if (rgb[3 * i] !== frame.data[3 * i] || rgb[3 * i + 1] !== frame.data[3 * i + 1] || rgb[3 * i + 2] !== frame.data[3 * i + 2]) mismatches++;
      }
      // The cross: two dark-edged arms, at most 3 x (2 x ANCHOR_ARM + 3) pixels each.
      expect(mismatches).toBeLessThanOrEqual(2 * 3 * (2 * ANCHOR_ARM + 3));
      // Inside the mask every pixel is changed: filled, or part of the white outline.
      let unchanged = 0;
      for (let i = 0; i < mask.length; i++) if (mask[i] && rgb[3 * i] === frame.data[3 * i] && rgb[3 * i + 1] === frame.data[3 * i + 1] && rgb[3 * i + 2] === frame.data[3 * i + 2]) unchanged++;
      expect(unchanged).toBeLessThan(mask.reduce((n, v) => n + (v ? 1 : 0), 0) / 10);
      // The outline: the mask's own edge pixels are white (bar the few the anchor cross may cover).
      const edge = [...mask.keys()].filter((i) => {
        if (!mask[i]) return false;
        const x = i % width;
        return x === 0 || x === width - 1 || i < width || i >= mask.length - width || !mask[i - 1] || !mask[i + 1] || !mask[i - width] || !mask[i + width];
      });
      expect(edge.length).toBeGreaterThan(0);
      expect(edge.filter((i) => rgb[3 * i] === OUTLINE_CORE[0] && rgb[3 * i + 1] === OUTLINE_CORE[1] && rgb[3 * i + 2] === OUTLINE_CORE[2]).length).toBeGreaterThanOrEqual(
        edge.length - 2 * (2 * ANCHOR_ARM + 3),
      );
      const after = await diag.next('diagnostics', 30_000, (e) => Number(values(e).overlays) > 0);
      expect(Number(values(after).overlays)).toBeGreaterThan(0);
    } finally {
      await Promise.all([overlay.close(), masks.close(), diag.close()]);
    }
  }, 180_000);
});
