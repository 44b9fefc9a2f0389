/**
 * `npm run bench -- view`: what a connected live viewer costs the pipeline. The same 640x480 frames
 * go through a StreamHost (drop 'none': every frame, as fast as the model goes) without a viewer,
 * and with a viewer and a page connected (a process doing what cli/viewer/viewer.html does: the
 * newest frame as JPEG at the viewer's rate, with its result record over /events). The two
 * alternate (ABBA), so load on a shared machine falls on both; the ratio of results/s is per round.
 * This process's CPU time per result (pipeline and viewer, not the page) is reported beside it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { throwIfAborted } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { kernelsImplementation } from '../sdk/kernels/index.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';
import { StreamHost } from '../sdk/stream/host.js';
import { Viewer } from '../cli/viewer/server.js';
import { HEIGHT, WIDTH, cameraFrames, median } from './camera.js';
import type { ViewClientCounts } from './view-client.js';

export interface ViewBenchOptions extends OpenOptions {
  bundleDir?: string;
  /** Frames per measured run (default 500: a run of some 3 s, so one burst of load moves a round's ratio less). */
  frames?: number;
  /** Rounds, each one run without and one with a viewer (default 12). */
  rounds?: number;
  onProgress?: (message: string) => void;
}

export interface ViewBenchReport {
  bundle: { name: string; version: string };
  backend: string;
  kernels: 'native' | 'ts';
  threads: number | null;
  frame: { width: number; height: number; encoding: 'rgb8' };
  frames: number;
  rounds: number;
  /** Median results/s without a viewer. */
  withoutPerSec: number;
  /** Median results/s with a viewer and a page connected. */
  withPerSec: number;
  /** Median CPU ms of this process (pipeline, and the viewer where there is one) per result, without and with. */
  cpuMsPerResult: { without: number; with: number };
  /** The viewer's frame rate cap the page followed. */
  viewFps: number;
  /** What the page received per second of a run with it: result events, JPEG frames, JPEG bytes per frame. */
  page: { eventsPerSec: number; framesPerSec: number; jpegKiB: number };
  /** with / without, per round. */
  roundRatios: number[];
  /** Median of `roundRatios`; target >= 0.95. */
  throughputRatio: number;
}

// The benchmark runs from dist/, where the client is compiled beside it.
const CLIENT = fileURLToPath(new URL('./view-client.js', import.meta.url));
const VIEW_FPS = 15;

export async function viewBenchmark(options: ViewBenchOptions = {}): Promise<ViewBenchReport> {
  const { frames: count = 500, rounds = 12, signal, onProgress } = options;
  const { frames, goal } = await cameraFrames(count);
  await using seg = await Segmenter.open(options.bundleDir, { backend: options.backend, threads: options.threads, signal });
  const without: number[] = [];
  const withViewer: number[] = [];
  const cpu = { without: [] as number[], with: [] as number[] };
  const pages: (ViewClientCounts & { seconds: number })[] = [];
  const client = fork(CLIENT);
  try {
    await pass(seg, frames, goal); // warm-up: engines, JIT, the page's process
    await viewed(seg, frames, goal, client);
    for (let r = 0; r < rounds; r++) {
      throwIfAborted(signal);
      // ABBA: neither side always runs first.
      for (const side of r % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const)) {
        if (side === 'without') {
          const p = await pass(seg, frames, goal);
          without.push(p.perSec);
          cpu.without.push(p.cpuMs);
        } else {
          const v = await viewed(seg, frames, goal, client);
          withViewer.push(v.perSec);
          cpu.with.push(v.cpuMs);
          pages.push(v.page);
        }
      }
      onProgress?.(`round ${r + 1}/${rounds}: without ${without.at(-1)!.toFixed(1)}/s, with a page ${withViewer.at(-1)!.toFixed(1)}/s`);
    }
  } finally {
    client.send('exit');
  }
  const roundRatios = withViewer.map((w, i) => w / without[i]);
  const seconds = pages.reduce((a, p) => a + p.seconds, 0);
  const sum = (k: keyof ViewClientCounts) => pages.reduce((a, p) => a + p[k], 0);
  const m = seg.manifest.model;
  return {
    bundle: { name: m.name, version: m.version },
    backend: seg.backend,
    kernels: kernelsImplementation,
    threads: options.threads ?? null,
    frame: { width: WIDTH, height: HEIGHT, encoding: 'rgb8' },
    frames: count,
    rounds,
    withoutPerSec: median(without),
    withPerSec: median(withViewer),
    cpuMsPerResult: { without: median(cpu.without), with: median(cpu.with) },
    viewFps: VIEW_FPS,
    page: { eventsPerSec: sum('events') / seconds, framesPerSec: sum('frames') / seconds, jpegKiB: sum('jpegBytes') / Math.max(1, sum('frames')) / 1024 },
    roundRatios,
    throughputRatio: median(roundRatios),
  };
}

interface Pass {
  perSec: number;
  seconds: number;
  /** This process's CPU time per result over the same span. */
  cpuMs: number;
}

/** Every frame through a stream host; results per second and CPU per result from the first result to the last. */
async function pass(seg: Segmenter, frames: Frame[], goal: string, withHost?: (host: StreamHost) => Promise<void>): Promise<Pass> {
  const host = new StreamHost({ goal, source: frames, drop: 'none' });
  let first = 0;
  let last = 0;
  let n = 0;
  let cpuFirst = process.cpuUsage();
  let cpuLast = cpuFirst;
  await withHost?.(host);
  await host.run(seg, {
    onResult: () => {
      last = performance.now();
      cpuLast = process.cpuUsage();
      if (n++ === 0) [first, cpuFirst] = [last, cpuLast];
    },
  });
  await host.close();
  const cpuSpan = cpuLast.user + cpuLast.system - (cpuFirst.user + cpuFirst.system);
  return { perSec: ((n - 1) * 1000) / (last - first), seconds: (last - first) / 1000, cpuMs: cpuSpan / 1000 / (n - 1) };
}

/** A pass with a viewer open on the host and the page connected to it before the first frame. */
async function viewed(seg: Segmenter, frames: Frame[], goal: string, client: ChildProcess): Promise<Pass & { page: ViewClientCounts & { seconds: number } }> {
  let viewer: Viewer | undefined;
  const reply = <T>() => new Promise<T>((resolve) => client.once('message', (m) => resolve(m as T)));
  try {
    const r = await pass(seg, frames, goal, async (host) => {
      viewer = await Viewer.open(host.tap(), { port: 0, fps: VIEW_FPS });
      const ready = reply<'ready'>();
      client.send({ url: viewer.url });
      await ready;
    });
    const counts = reply<ViewClientCounts>();
    client.send('stop');
    return { ...r, page: { ...(await counts), seconds: r.seconds } };
  } finally {
    await viewer?.close();
  }
}

export function formatViewBench(r: ViewBenchReport): string {
  return [
    `view: ${r.frames} frames ${r.frame.width}x${r.frame.height} per run, ${r.rounds} rounds (ABBA), backend ${r.backend}, kernels ${r.kernels}`,
    `  without a viewer      ${r.withoutPerSec.toFixed(1)} results/s (median)`,
    `  with a page connected ${r.withPerSec.toFixed(1)} results/s (median); the page got ${r.page.eventsPerSec.toFixed(1)} events/s, ${r.page.framesPerSec.toFixed(1)} JPEG frames/s of ${r.page.jpegKiB.toFixed(1)} KiB`,
    `  CPU of this process per result: ${r.cpuMsPerResult.without.toFixed(2)} ms without, ${r.cpuMsPerResult.with.toFixed(2)} ms with (the page's own process not counted); viewer capped at ${r.viewFps} fps`,
    `  throughputRatio ${r.throughputRatio.toFixed(3)} (rounds ${r.roundRatios.map((v) => v.toFixed(3)).join(', ')}); target >= 0.95`,
  ].join('\n');
}
