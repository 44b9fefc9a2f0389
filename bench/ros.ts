/**
 * `npm run bench -- ros` (under `bash ros/with-ros.sh`): what ROS 2 costs. Camera-to-mask
 * latency and delivered rate for the same rgb8 frames offered at a fixed rate, (a) through
 * `Segmenter.stream()` in this process and (b) through ROS 2: an rclpy camera (best effort,
 * stamped with wall-clock time at publication) -> `anchorseg ros` (its own process, as deployed)
 * -> an rclpy listener on `mask` that takes latency as receive time minus the camera stamp. Same
 * bundle, goal, backend and reasoning policy; the two runs alternate so load on a shared machine
 * hits both.
 *
 * Reports the ratio ROS 2 / direct of mean and median latency, the delivered rates, and frames
 * lost in transport (sent by the camera, never received by the node: not latest-frame-wins drops).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { AnchorSegError, throwIfAborted } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { loadImage } from '../sdk/base/image.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';
import { paced, readSequences } from '../sdk/stream/sources.js';
import { NodeProcess, Peer, PYTHON } from './ros-processes.js';

export interface RosBenchOptions extends OpenOptions {
  bundleDir?: string;
  /** Seconds of camera frames per run (default 10). */
  seconds?: number;
  /** Camera rate, frames per second (default 30). */
  fps?: number;
  /** Camera frame size (default 640x480). */
  width?: number;
  height?: number;
  /** Rounds, each a direct run then a ROS 2 run (default 1). */
  rounds?: number;
  onProgress?: (message: string) => void;
}

interface Run {
  latencies: number[];
  /** Frames offered (direct) / published by the camera (ROS). */
  offered: number;
  delivered: number;
  dropped: number;
  seconds: number;
  /** ROS only: published by the camera but never received by the node. */
  lostInTransport?: number;
  /** ROS only: the node's own share, image arrival at the node to mask publication (its metadata's latency_ms). */
  inNode?: number[];
}

interface Setup {
  seconds: number;
  fps: number;
  width: number;
  height: number;
  count: number;
  /** anchorseg ros flags for the engines: the same bundle, backend and threads as the direct run. */
  engineArgs: string[];
  open: OpenOptions & { bundleDir?: string };
}

/** Sequence frames scaled to the camera size (real content, not noise). */
async function cameraFrames(W: number, H: number): Promise<{ frames: Frame[]; goal: string }> {
  const [seq] = await readSequences();
  const frames = await Promise.all(
    seq.frames.slice(0, 60).map(async (f) => {
      const src = await loadImage(f.file);
      const data = await sharp(src.data, { raw: { width: src.width, height: src.height, channels: 3 } })
        .resize(W, H, { fit: 'fill' })
        .raw()
        .toBuffer();
      return { width: W, height: H, encoding: 'rgb8', step: W * 3, data: new Uint8Array(data) } satisfies Frame;
    }),
  );
  return { frames, goal: seq.goal };
}

async function direct(setup: Setup, frames: Frame[], goal: string): Promise<Run> {
  const { count: COUNT, fps: FPS } = setup;
  const seg = await Segmenter.open(setup.open.bundleDir, { backend: setup.open.backend, threads: setup.open.threads, signal: setup.open.signal });
  try {
    await seg.segment(frames[0], goal); // warm-up, as the node's first frames are after it started
    function* camera() {
      for (let i = 0; i < COUNT; i++) yield { ...frames[i % frames.length] };
    }
    const latencies: number[] = [];
    const t0 = performance.now();
    const stream = seg.stream(paced(camera(), FPS), { goal });
    for await (const r of stream) latencies.push(r.latencyMs);
    return { latencies, offered: COUNT, delivered: latencies.length, dropped: stream.stats().dropped, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await seg.close();
  }
}

async function throughRos(setup: Setup, framesFile: string, goal: string): Promise<Run> {
  const { seconds: SECONDS, fps: FPS, width: W, height: H, count: COUNT } = setup;
  const node = new NodeProcess(['--goal', goal, '--diagnostics-period', '0', '--no-publish-overlay', ...setup.engineArgs]);
  const listener = new Peer(['listen', '--topic', 'mask', '--qos', 'reliable', '--depth', '30', '--no-digest', '--timeout', String(SECONDS + 120)]);
  const meta = new Peer(['listen', '--topic', 'segmentation', '--type', 'segmentation', '--qos', 'reliable', '--depth', '30', '--timeout', String(SECONDS + 120)]);
  try {
    await Promise.all([node.ready(), listener.next('ready'), meta.next('ready')]);
    // Warm-up frames (not measured), as the direct run's first segment().
    const warm = new Peer(['camera', '--frames-file', framesFile, '--width', String(W), '--height', String(H), '--count', '3', '--rate', '2', '--no-digest']);
    await warm.next('done', 120_000).finally(() => warm.close());
    await listener.next('image', 120_000);
    const skip = listener.all('image').length;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const cam = new Peer(['camera', '--frames-file', framesFile, '--width', String(W), '--height', String(H), '--count', String(COUNT), '--rate', String(FPS), '--stamp', 'now', '--no-digest']);
    await cam.next('matched', 60_000);
    const t0 = performance.now(); // the camera publishes from now on
    await cam.next('done', (SECONDS + 60) * 1000).finally(() => cam.close());
    // Let the node finish the frame in flight; the run ends with the last mask, as the direct one.
    let last = listener.all('image').length;
    let lastAt = performance.now();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const n = listener.all('image').length;
      if (n !== last) [last, lastAt] = [n, performance.now()];
      else if (performance.now() - lastAt > 1500) break;
    }
    const seconds = (lastAt - t0) / 1000;
    node.kill('SIGTERM');
    const closed = await node.next('closed', 30_000);
    const c = closed.counters as { received: number; dropped: number; invalid: number; results: number };
    const warmReceived = 3;
    const latencies = listener
      .all('image')
      .slice(skip)
      .map((e) => e.latency_ms as number);
    const inNode = meta
      .all('segmentation')
      .slice(skip)
      .map((e) => (e.message as { latency_ms: number }).latency_ms);
    return { latencies, offered: COUNT, delivered: latencies.length, dropped: c.dropped, seconds, lostInTransport: COUNT + warmReceived - c.received, inNode };
  } finally {
    await Promise.all([listener.close(), meta.close(), node.close()]);
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

function merge(runs: Run[]): Run {
  return {
    latencies: runs.flatMap((r) => r.latencies),
    offered: runs.reduce((a, r) => a + r.offered, 0),
    delivered: runs.reduce((a, r) => a + r.delivered, 0),
    dropped: runs.reduce((a, r) => a + r.dropped, 0),
    seconds: runs.reduce((a, r) => a + r.seconds, 0),
    ...(runs[0].lostInTransport !== undefined && { lostInTransport: runs.reduce((a, r) => a + (r.lostInTransport ?? 0), 0) }),
    ...(runs[0].inNode !== undefined && { inNode: runs.flatMap((r) => r.inNode ?? []) }),
  };
}

function summary(r: Run) {
  return {
    meanMs: mean(r.latencies),
    p50Ms: quantile(r.latencies, 0.5),
    p95Ms: quantile(r.latencies, 0.95),
    deliveredHz: r.delivered / r.seconds,
    offered: r.offered,
    delivered: r.delivered,
    droppedLatestWins: r.dropped,
    ...(r.lostInTransport !== undefined && { lostInTransport: r.lostInTransport }),
    ...(r.inNode !== undefined && { inNodeMeanMs: mean(r.inNode) }),
  };
}

export interface RosBenchReport {
  frames: string;
  goal: string;
  seconds: number;
  fps: number;
  width: number;
  height: number;
  rounds: number;
  direct: Summary;
  ros2: Summary;
  /** ROS 2 mean latency / direct mean latency, same frames, same run. */
  ratioMean: number;
  /** ROS 2 median latency / direct median latency. */
  ratioP50: number;
}

type Summary = ReturnType<typeof summary>;

export async function rosBenchmark(options: RosBenchOptions = {}): Promise<RosBenchReport> {
  if (PYTHON === undefined) {
    throw new AnchorSegError(
      'ERR_NATIVE_UNAVAILABLE',
      'Expected a ROS 2 environment (ANCHORSEG_ROS_PYTHON or ROS_DISTRO set) but received neither: run it as bash ros/with-ros.sh npm run bench -- ros',
    );
  }
  const { seconds = 10, fps = 30, width = 640, height = 480, rounds = 1, signal, onProgress } = options;
  const setup: Setup = {
    seconds,
    fps,
    width,
    height,
    count: Math.round(seconds * fps),
    engineArgs: [
      ...(options.bundleDir ? ['--bundle', options.bundleDir] : []),
      ...(options.backend ? ['--backend', Array.isArray(options.backend) ? options.backend.join(',') : String(options.backend)] : []),
      ...(options.threads ? ['--threads', String(options.threads)] : []),
    ],
    open: { bundleDir: options.bundleDir, backend: options.backend, threads: options.threads, signal },
  };
  const { frames, goal } = await cameraFrames(width, height);
  const dir = mkdtempSync(path.join(tmpdir(), 'anchorseg-bench-ros-'));
  const framesFile = path.join(dir, 'frames.rgb');
  writeFileSync(framesFile, Buffer.concat(frames.map((f) => f.data)));
  const directRuns: Run[] = [];
  const rosRuns: Run[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      throwIfAborted(signal);
      onProgress?.(`round ${round + 1}/${rounds}: direct`);
      directRuns.push(await direct(setup, frames, goal));
      throwIfAborted(signal);
      onProgress?.(`round ${round + 1}/${rounds}: ROS 2`);
      rosRuns.push(await throughRos(setup, framesFile, goal));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const d = summary(merge(directRuns));
  const r = summary(merge(rosRuns));
  return {
    frames: `${width}x${height} rgb8 at ${fps} Hz for ${seconds} s x ${rounds} round(s)`,
    goal,
    seconds,
    fps,
    width,
    height,
    rounds,
    direct: d,
    ros2: r,
    ratioMean: r.meanMs / d.meanMs,
    ratioP50: r.p50Ms / d.p50Ms,
  };
}

export function formatRosBench(result: RosBenchReport): string {
  const row = (name: string, s: Summary) =>
    `${name.padEnd(8)} mean ${s.meanMs.toFixed(1).padStart(7)} ms  p50 ${s.p50Ms.toFixed(1).padStart(7)} ms  p95 ${s.p95Ms.toFixed(1).padStart(7)} ms  delivered ${s.deliveredHz.toFixed(1).padStart(5)} Hz (${s.delivered}/${s.offered}, latest-wins drops ${s.droppedLatestWins}${s.lostInTransport !== undefined ? `, lost in transport ${s.lostInTransport}` : ''})`;
  const r = result.ros2;
  return [
    `camera-to-mask, ${result.frames}, goal ${JSON.stringify(result.goal)}`,
    row('direct', result.direct),
    row('ROS 2', r),
    `ROS 2 / direct latency: mean ${result.ratioMean.toFixed(2)}x, p50 ${result.ratioP50.toFixed(2)}x`,
    `ROS 2 mean split: ${r.inNodeMeanMs!.toFixed(1)} ms in the node (arrival to publication), ${(r.meanMs - r.inNodeMeanMs!).toFixed(1)} ms camera -> node -> listener`,
  ].join('\n');
}
