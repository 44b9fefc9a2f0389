/**
 * `npm run bench -- zmq`: what serving results over ZeroMQ costs. The same
 * 640x480 frames go through `seg.stream()` directly and through `anchorseg serve` (an
 * AnchorSegServer on loopback TCP, frames pushed and masks received by an AnchorSegClient in
 * this process), in rounds that alternate the order, so load changes on a shared machine hit
 * both alike. Two regimes:
 *  - throughput: every frame segmented (drop 'none'); the producer keeps `window` frames in
 *    flight; results per second from the first frame handed over to the last result received;
 *  - latency: one frame at a time; from handing a frame over to holding its result.
 * The ZeroMQ side pays for everything a remote program would see: frame transfer, the JSON
 * header, the RLE, the raw mask copy, decoding in the client (which shares this process's CPU).
 * Transport `tcp` (default) is loopback TCP; `ipc` is Unix domain sockets, what a peer on the
 * same host can use instead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Publisher, Pull, Push, Subscriber } from 'zeromq';
import { throwIfAborted } from '../sdk/base/errors.js';
import type { Frame } from '../sdk/base/frame.js';
import { kernelsImplementation } from '../sdk/kernels/index.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';
import { AnchorSegClient, AnchorSegServer, type ZmqResult } from '../zmq/index.js';
import { HEIGHT, WIDTH, cameraFrames, median, quantile } from './camera.js';

export interface ZmqBenchOptions extends OpenOptions {
  bundleDir?: string;
  /** Frames per measured run (default 60). */
  frames?: number;
  /** Rounds (default 10); each runs both paths in both regimes, back to back. Short runs, many rounds: load changes on a shared machine hit both paths alike. */
  rounds?: number;
  /** Frames in flight in the throughput regime (default 4: one in vision, one in reasoner/decoder, the rest covering the round trip). */
  window?: number;
  /** `tcp` (default): loopback TCP; `ipc`: Unix domain sockets in a temporary folder. */
  transport?: ZmqTransport;
  onProgress?: (message: string) => void;
}

export type ZmqTransport = 'tcp' | 'ipc';

export interface PathFigures {
  /** Median over rounds of results per second (throughput regime). */
  resultsPerSec: number;
  /**
   * Median over rounds of this process's CPU time (every thread: main, ONNX Runtime workers,
   * ZeroMQ's I/O thread, the kernel on its behalf) per result, throughput regime, ms. Other
   * programs' load moves it far less than wall time.
   */
  cpuMsPerResult: number;
  /** Hand-over to result, one frame at a time, over every round, ms. */
  latencyMs: { p50: number; p95: number };
}

export interface ZmqBenchReport {
  backend: string;
  kernels: 'native' | 'ts';
  frame: { width: number; height: number; encoding: string };
  frames: number;
  rounds: number;
  window: number;
  transport: ZmqTransport;
  goal: string;
  direct: PathFigures;
  zmq: PathFigures;
  /**
   * Median over rounds of zmq results/s / direct results/s, each round's two runs back to back
   * (1 = no cost; the target is >= 0.9, an overhead <= 10%).
   */
  throughputRatio: number;
  /** Each round's ratio, to see how much the machine's load moved it. */
  roundRatios: number[];
  /** 1 - throughputRatio. */
  throughputOverhead: number;
  /** zmq.cpuMsPerResult / direct.cpuMsPerResult: what the transport costs where the CPU is the limit. */
  cpuRatio: number;
  /** zmq.latencyMs.p50 / direct.latencyMs.p50. */
  latencyRatioP50: number;
  /** zmq.cpuMsPerResult - direct.cpuMsPerResult: what serving costs per result, ms. */
  transportCpuMs: number;
  /**
   * Median over rounds of the CPU ms per frame of the bytes alone: each frame pushed and a
   * mask-sized message published back over loopback TCP by bare zeromq.js sockets in this process,
   * no model, no JSON. The floor under `transportCpuMs` that no server change can remove.
   */
  bareBytesCpuMs: number;
}

type Endpoints = { control: string; results: string; frames: string };

/** Fresh endpoints for each run: socket files in `ipcDir` (ipc), else free loopback ports. */
function endpointsFor(ipcDir: string | undefined): () => Endpoints {
  if (ipcDir === undefined) return () => ({ control: 'tcp://127.0.0.1:*', results: 'tcp://127.0.0.1:*', frames: 'tcp://127.0.0.1:*' });
  let run = 0;
  return () => {
    const at = (name: string) => `ipc://${path.join(ipcDir, `${run}-${name}`)}`;
    run++;
    return { control: at('control'), results: at('results'), frames: at('frames') };
  };
}

export async function zmqBenchmark(options: ZmqBenchOptions = {}): Promise<ZmqBenchReport> {
  const { frames: count = 60, rounds = 10, window = 4, transport = 'tcp', signal, onProgress } = options;
  const { frames, goal } = await cameraFrames(count);
  const socketDir = transport === 'ipc' ? await mkdtemp(path.join(tmpdir(), 'anchorseg-bench-zmq-')) : undefined;
  const endpoints = endpointsFor(socketDir);
  try {
    await using seg = await Segmenter.open(options.bundleDir, { backend: options.backend, threads: options.threads, signal });
    const direct = { rates: [] as number[], cpu: [] as number[], latencies: [] as number[] };
    const zmq = { rates: [] as number[], cpu: [] as number[], latencies: [] as number[] };
    const throughput = { direct: () => directThroughput(seg, frames, goal), zmq: () => zmqThroughput(seg, endpoints(), frames, goal, window) };
    const latency = { direct: () => directLatency(seg, frames, goal), zmq: () => zmqLatency(seg, endpoints(), frames, goal) };
    const bare: number[] = [];
    // Warm-up (engines, sockets, JIT), not measured.
    await throughput.direct();
    await throughput.zmq();
    for (let r = 0; r < rounds; r++) {
      // Each round runs both paths back to back, in alternating order.
      const order = r % 2 === 0 ? (['direct', 'zmq'] as const) : (['zmq', 'direct'] as const);
      for (const name of order) {
        throwIfAborted(signal);
        onProgress?.(`round ${r + 1}/${rounds}: ${name}`);
        const { perSec, cpuMsPerResult } = await throughput[name]();
        (name === 'direct' ? direct : zmq).rates.push(perSec);
        (name === 'direct' ? direct : zmq).cpu.push(cpuMsPerResult);
      }
      for (const name of order) (name === 'direct' ? direct : zmq).latencies.push(...(await latency[name]()));
      bare.push(await bareBytes(endpoints(), frames, window));
    }
    const figures = (p: typeof direct): PathFigures => ({
      resultsPerSec: median(p.rates),
      cpuMsPerResult: median(p.cpu),
      latencyMs: { p50: median(p.latencies), p95: quantile(p.latencies, 0.95) },
    });
    const d = figures(direct);
    const z = figures(zmq);
    const roundRatios = zmq.rates.map((rate, i) => rate / direct.rates[i]);
    const throughputRatio = median(roundRatios);
    return {
      backend: seg.backend,
      kernels: kernelsImplementation,
      frame: { width: WIDTH, height: HEIGHT, encoding: 'rgb8' },
      frames: count,
      rounds,
      window,
      transport,
      goal,
      direct: d,
      zmq: z,
      throughputRatio,
      roundRatios,
      throughputOverhead: 1 - throughputRatio,
      cpuRatio: z.cpuMsPerResult / d.cpuMsPerResult,
      latencyRatioP50: z.latencyMs.p50 / d.latencyMs.p50,
      transportCpuMs: z.cpuMsPerResult - d.cpuMsPerResult,
      bareBytesCpuMs: median(bare),
    };
  } finally {
    if (socketDir) await rm(socketDir, { recursive: true, force: true });
  }
}

interface Throughput {
  perSec: number;
  cpuMsPerResult: number;
}

/** Wall and process CPU time from now to `done(results)`. */
function clock(): (results: number) => Throughput {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  return (results) => {
    const cpu = process.cpuUsage(cpu0);
    return { perSec: (results * 1000) / (performance.now() - t0), cpuMsPerResult: (cpu.user + cpu.system) / 1000 / results };
  };
}

/** seg.stream() over every frame as fast as it goes. */
async function directThroughput(seg: Segmenter, frames: Frame[], goal: string): Promise<Throughput> {
  const done = clock();
  let n = 0;
  for await (const _ of seg.stream(frames, { goal, drop: 'none' })) n++;
  return done(n);
}

/** seg.stream() fed one frame at a time, the next only once the last result is in: hand-over to result, ms. */
async function directLatency(seg: Segmenter, frames: Frame[], goal: string): Promise<number[]> {
  const out: number[] = [];
  let handedAt = 0;
  let resultIn: () => void = () => undefined;
  async function* oneAtATime(): AsyncGenerator<Frame> {
    for (const f of frames) {
      handedAt = performance.now();
      yield f;
      await new Promise<void>((resolve) => (resultIn = resolve));
    }
  }
  for await (const _ of seg.stream(oneAtATime(), { goal, drop: 'none' })) {
    out.push(performance.now() - handedAt);
    resultIn();
  }
  return out;
}

/** A server on `endpoints` and a client of it, for one run. */
async function served<T>(seg: Segmenter, endpoints: Endpoints, goal: string, window: number, work: (client: AnchorSegClient, results: AsyncIterator<ZmqResult>) => Promise<T>): Promise<T> {
  await using server = await AnchorSegServer.open(seg, { ...endpoints, goal, drop: 'none' });
  const e = server.endpoints;
  await using client = AnchorSegClient.connect({ control: e.control, results: e.results, frames: e.frames!, framesHighWaterMark: window });
  const sub = client.results({ highWaterMark: 64 });
  await sub.ready();
  const it = sub[Symbol.asyncIterator]();
  try {
    return await work(client, it);
  } finally {
    await it.return?.();
  }
}

async function send(client: AnchorSegClient, frame: Frame): Promise<void> {
  // The queues hold more than the window, so a refused frame means the bench itself is broken.
  if (!(await client.sendFrame(frame))) throw new Error(`frame ${frame.frameId} was refused at the client's high-water mark`);
}

async function next(results: AsyncIterator<ZmqResult>): Promise<ZmqResult> {
  const r = await results.next();
  if (r.done) throw new Error('the results subscription ended early');
  return r.value;
}

/** Every frame through the server with `window` frames in flight, as a client sees them. */
function zmqThroughput(seg: Segmenter, endpoints: Endpoints, frames: Frame[], goal: string, window: number): Promise<Throughput> {
  return served(seg, endpoints, goal, window, async (client, results) => {
    const done = clock();
    let sent = 0;
    for (; sent < Math.min(window, frames.length); sent++) await send(client, frames[sent]);
    for (let received = 0; received < frames.length; received++) {
      const r = await next(results);
      if (r.frameId !== frames[received].frameId) throw new Error(`expected the result of ${frames[received].frameId} but received ${r.frameId}`);
      if (sent < frames.length) await send(client, frames[sent++]);
    }
    return done(frames.length);
  });
}

/**
 * The bytes alone: every frame's pixels pushed over the transport and a message of the mask's
 * size published back to a subscriber, `window` frames in flight, with bare sockets. CPU ms per frame.
 */
async function bareBytes(endpoints: Endpoints, frames: Frame[], window: number): Promise<number> {
  const push = new Push({ linger: 0, sendHighWaterMark: window });
  const pull = new Pull({ linger: 0, receiveHighWaterMark: 2 });
  const pub = new Publisher({ linger: 0, sendHighWaterMark: 0 }); // 0: no limit, so no frame's mask is dropped
  const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 0 });
  try {
    await pull.bind(endpoints.frames);
    push.connect(pull.lastEndpoint!);
    await pub.bind(endpoints.results);
    sub.connect(pub.lastEndpoint!);
    sub.subscribe('m');
    // A subscription takes effect some time after connect: ping until one arrives.
    const ready = sub.receive();
    while (await Promise.race([ready.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 20))])) await pub.send(['m', 'ping']);
    const mask = Buffer.alloc(frames[0].width * frames[0].height, 255);
    const done = clock();
    const echo = (async () => {
      for (let i = 0; i < frames.length; i++) {
        const [header] = await pull.receive();
        await pub.send(['m', header, mask]);
      }
    })();
    const received = (async () => {
      for (let got = 0; got < frames.length; ) {
        const [, , body] = await sub.receive();
        if (body) got++; // a late ping has no third part
      }
    })();
    for (const f of frames) await push.send([Buffer.from(JSON.stringify({ frameId: f.frameId })), f.data]);
    await Promise.all([echo, received]);
    return done(frames.length).cpuMsPerResult;
  } finally {
    for (const s of [push, pull, pub, sub]) s.close();
  }
}

/** One frame at a time through the server: push to result in hand, ms. */
function zmqLatency(seg: Segmenter, endpoints: Endpoints, frames: Frame[], goal: string): Promise<number[]> {
  return served(seg, endpoints, goal, 1, async (client, results) => {
    const out: number[] = [];
    for (const f of frames) {
      const t0 = performance.now();
      await send(client, f);
      const r = await next(results);
      out.push(performance.now() - t0);
      if (r.frameId !== f.frameId) throw new Error(`expected the result of ${f.frameId} but received ${r.frameId}`);
    }
    return out;
  });
}

export function formatZmqBench(r: ZmqBenchReport): string {
  const line = (name: string, p: PathFigures) =>
    `  ${name.padEnd(8)} ${p.resultsPerSec.toFixed(1).padStart(6)} results/s   ${p.cpuMsPerResult.toFixed(2)} CPU ms/result   latency p50 ${p.latencyMs.p50.toFixed(2)} ms, p95 ${p.latencyMs.p95.toFixed(2)} ms`;
  return [
    `backend ${r.backend}, kernels ${r.kernels}; ${r.frames} frames ${r.frame.width}x${r.frame.height} ${r.frame.encoding} per run, ${r.rounds} rounds, window ${r.window}, ${r.transport === 'tcp' ? 'loopback TCP' : 'ipc (Unix domain sockets)'}; goal "${r.goal}"`,
    line('direct', r.direct),
    line('zeromq', r.zmq),
    `throughputRatio ${r.throughputRatio.toFixed(3)} (overhead ${(r.throughputOverhead * 100).toFixed(1)}%, target <= 10%; rounds ${r.roundRatios.map((x) => x.toFixed(2)).join(' ')})  latencyRatioP50 ${r.latencyRatioP50.toFixed(3)}`,
    `cpuRatio ${r.cpuRatio.toFixed(3)} (CPU time per result, all threads of this process): serving costs ${r.transportCpuMs.toFixed(2)} CPU ms per result, of which the bytes alone (bare sockets, no model) ${r.bareBytesCpuMs.toFixed(2)} ms`,
  ].join('\n');
}
