/**
 * Video sources on the real programs (ffmpeg's lavfi test sources, an MP4 written from a committed
 * sequence, an RTSP loopback, GStreamer's videotestsrc): frame size, latest frame wins,
 * back-pressure, restart with backoff after the decoder is killed or the input is truncated,
 * clean stop (child reaped, no fd left open), coded errors when a program is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../sdk/base/frame.js';
import { Segmenter } from '../sdk/segmenter.js';
import { defaultSequencesDir } from '../sdk/stream/sources.js';
import { gstreamerSource, splitPipeline, videoSource } from '../sdk/stream/video.js';
import type { RestartEvent } from '../sdk/stream/video-process.js';
import { describeMedia, RTSP_SERVER, sequenceMp4, startRtspServer } from './fixtures/media.js';
import { expectCode, removeTemps, tempDir } from './fixtures/sdk-helpers.js';

const SEQ = path.join(defaultSequencesDir(), 'seq00');
const MP4_FRAMES = 12;
afterAll(removeTemps);

const lavfi = (graph: string) => ['-f', 'lavfi', graph] as const;
/** True once the process is gone from the process table (reaped: a zombie would still be there). */
const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
};
const openFds = () => readdirSync('/proc/self/fd').length;

/** Takes `n` frames from a source's iterator, waiting `pauseMs` after each (a slow consumer). */
async function take(it: AsyncIterator<Frame>, n: number, pauseMs = 0): Promise<Frame[]> {
  const frames: Frame[] = [];
  while (frames.length < n) {
    const r = await it.next();
    if (r.done) break;
    frames.push(r.value);
    if (pauseMs) await sleep(pauseMs);
  }
  return frames;
}

/** Resolves when `test()` holds, checking every 10 ms. */
async function until(test: () => boolean): Promise<void> {
  while (!test()) await sleep(10);
}

describe('splitPipeline', () => {
  it('splits on blanks outside quotes as a shell does, and refuses dangling links and open quotes', async () => {
    expect(splitPipeline(`videotestsrc pattern=ball ! 'video/x-raw, width=320' ! "nv vidconv"`)).toEqual(['videotestsrc', 'pattern=ball', '!', 'video/x-raw, width=320', '!', 'nv vidconv']);
    await expectCode(() => splitPipeline('videotestsrc !'), 'ERR_INVALID_ARG');
    await expectCode(() => splitPipeline(`videotestsrc ! 'video/x-raw`), 'ERR_INVALID_ARG');
  });
});

describeMedia('videoSource (ffmpeg)', ['ffmpeg', 'ffprobe'], () => {
  let mp4: string;
  beforeAll(async () => {
    mp4 = await sequenceMp4(SEQ, 15, MP4_FRAMES, path.join(await tempDir('anchorseg-video-'), 'seq00.mp4'));
  });

  it('reads the size from ffprobe and hands out rgb8 frames with the right colours', async () => {
    await using s = await videoSource(lavfi('color=c=red:size=32x24:rate=25')[2], { inputOptions: ['-f', 'lavfi'] });
    expect([s.width, s.height, s.fps, s.live, s.drop]).toEqual([32, 24, 25, true, 'latest']);
    const [f] = await take(s[Symbol.asyncIterator](), 1);
    expect(f).toMatchObject({ width: 32, height: 24, encoding: 'rgb8', step: 96 });
    expect(f.data.length).toBe(32 * 24 * 3);
    const [r, g, b] = f.data.subarray(0, 3);
    expect(r).toBeGreaterThan(240);
    expect(g + b).toBeLessThan(16);
  });

  it('latest frame wins: a slow consumer gets fresh frames, the others are dropped and counted', async () => {
    await using s = await videoSource('testsrc=size=64x48:rate=200', { inputOptions: ['-f', 'lavfi'] });
    const frames = await take(s[Symbol.asyncIterator](), 5, 50);
    const c = s.counters;
    expect(frames).toHaveLength(5);
    expect(c.delivered).toBe(5);
    expect(c.dropped).toBeGreaterThan(0);
    // Every frame read is delivered, dropped, or the one waiting.
    expect(c.frames - c.delivered - c.dropped).toBeLessThanOrEqual(1);
    // Dropped frames' pixels are reused, never a delivered frame's.
    expect(new Set(frames.map((f) => f.data.buffer)).size).toBe(5);
    await expectCode(() => s[Symbol.asyncIterator](), 'ERR_BUSY');
  });

  it('a file is decoded only as fast as it is consumed: every frame, none dropped, stamped k / fps, then the end', async () => {
    const s = await videoSource(mp4);
    expect([s.width, s.height, s.fps, s.live, s.drop]).toEqual([320, 240, 15, false, 'none']);
    const frames: Frame[] = [];
    for await (const f of s) {
      frames.push(f);
      await sleep(20);
    }
    expect(frames).toHaveLength(MP4_FRAMES);
    expect(s.counters).toEqual({ frames: MP4_FRAMES, delivered: MP4_FRAMES, dropped: 0, restarts: 0 });
    expect(frames[3].stamp).toEqual({ sec: 0, nanosec: 200_000_000 });
    expect(s.pid).toBeUndefined();
  });

  it('scales to the width asked for, keeping the proportion, and to an explicit size and rate', async () => {
    await using half = await videoSource(mp4, { width: 160 });
    expect([half.width, half.height]).toEqual([160, 120]);
    const [f] = await take(half[Symbol.asyncIterator](), 1);
    expect(f.data.length).toBe(160 * 120 * 3);
    await using small = await videoSource(mp4, { width: 40, height: 40, fps: 5 });
    const all: Frame[] = [];
    for await (const x of small) all.push(x);
    // 12 frames at 15 fps are 0.8 s: 4 frames at 5 fps.
    expect(all.length).toBe(4);
    expect(all[0].data.length).toBe(40 * 40 * 3);
  });

  it('stream loss: a killed decoder is restarted after the backoff delay and reported; close() then reaps it and leaves no fd open', async () => {
    const fds = openFds();
    const events: RestartEvent[] = [];
    const s = await videoSource('testsrc=size=64x48:rate=30', { inputOptions: ['-f', 'lavfi'], realtime: true, restart: { initialDelayMs: 20 }, onRestart: (e) => events.push(e) });
    const it = s[Symbol.asyncIterator]();
    await take(it, 2);
    const first = s.pid!;
    process.kill(first, 'SIGKILL');
    await until(() => events.length === 1);
    expect(events[0]).toMatchObject({ attempt: 1, attempts: 5, delayMs: 20 });
    expect(events[0].reason).toMatch(/^ffmpeg was stopped by SIGKILL/);
    await take(it, 2);
    const second = s.pid!;
    expect(second).not.toBe(first);
    expect(s.counters.restarts).toBe(1);
    await s.close();
    expect(gone(first) && gone(second)).toBe(true);
    expect(s.pid).toBeUndefined();
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(openFds()).toBe(fds);
  });

  it('a truncated input: restarts back off exponentially up to the bound, then the source fails with a coded error', async () => {
    const bytes = await readFile(mp4);
    const cut = path.join(path.dirname(mp4), 'cut.mp4');
    await writeFile(cut, bytes.subarray(0, bytes.length >> 1));
    const events: RestartEvent[] = [];
    const restart = { attempts: 3, initialDelayMs: 10, factor: 3, maxDelayMs: 50 };
    const s = await videoSource(cut, { width: 320, height: 240, live: true, restart, onRestart: (e) => events.push(e) });
    const err = await expectCode(take(s[Symbol.asyncIterator](), 1), 'ERR_SOURCE_FAILED');
    expect(err.message).toMatch(/^Expected ffmpeg .*cut\.mp4 to keep delivering frames but ffmpeg exited with code 1: .*\(after 3 restarts in a row without a frame\)$/);
    expect(events.map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 10],
      [2, 30],
      [3, 50],
    ]);
    // Not live (a file), not restarted: the decode error is the answer.
    await using once = await videoSource(cut, { width: 320, height: 240 });
    await expectCode(take(once[Symbol.asyncIterator](), 1), 'ERR_SOURCE_FAILED');
    expect(once.counters.restarts).toBe(0);
    await expectCode(videoSource(cut), 'ERR_SOURCE_FAILED'); // ffprobe cannot read it either
  });

  it('as the source of seg.stream(): leaving the loop stops the decoder', async () => {
    await using seg = await Segmenter.open(undefined, { threads: 1 });
    const src = await videoSource('testsrc=size=64x48:rate=15', { inputOptions: ['-f', 'lavfi'], realtime: true });
    let pid = 0;
    let results = 0;
    for await (const r of seg.stream(src, { goal: 'the red cup' })) {
      expect([r.width, r.height]).toEqual([64, 48]);
      pid = src.pid!;
      if (++results === 2) break;
    }
    // The stream lets its source go without waiting for it (docs/streaming.md, Ending).
    await until(() => gone(pid));
    expect(src.pid).toBeUndefined();
  });

  it('aborting the signal ends the iteration and stops the decoder', async () => {
    const ac = new AbortController();
    const s = await videoSource('testsrc=size=64x48:rate=30', { inputOptions: ['-f', 'lavfi'], realtime: true, signal: ac.signal });
    let n = 0;
    let pid = 0;
    for await (const _ of s) {
      pid = s.pid!;
      if (++n === 2) ac.abort();
    }
    await s.close();
    expect(n).toBe(2);
    expect(gone(pid)).toBe(true);
    await expectCode(videoSource(mp4, { signal: ac.signal }), 'ERR_ABORTED');
  });

  it('RTSP over loopback: ffmpeg listening (-rtsp_flags listen) receives a stream another ffmpeg publishes', async () => {
    const port = await freePort();
    const url = `rtsp://127.0.0.1:${port}/live`;
    await using s = await videoSource(url, { inputOptions: ['-rtsp_flags', 'listen'], width: 64, height: 48 });
    expect(s.live).toBe(true);
    const it = s[Symbol.asyncIterator]();
    const first = it.next();
    await until(() => s.pid !== undefined);
    // The publisher retries until the listener is up.
    let publisher: ChildProcess | undefined;
    let stop = false;
    const publish = (async () => {
      while (!stop) {
        publisher = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=15', '-c:v', 'libx264', '-tune', 'zerolatency', '-f', 'rtsp', url], {
          stdio: 'ignore',
        });
        await new Promise((resolve) => publisher!.once('exit', resolve));
        if (!stop) await sleep(100);
      }
    })();
    try {
      const f = (await first).value as Frame;
      expect([f.width, f.height, f.encoding]).toEqual([64, 48, 'rgb8']);
      expect(await take(it, 3)).toHaveLength(3);
    } finally {
      stop = true;
      publisher?.kill();
      await publish;
    }
  });

  it('a missing ffmpeg or ffprobe is a coded error naming what to install', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const probe = await expectCode(videoSource(mp4), 'ERR_TOOL_MISSING');
      expect(probe.message).toMatch(/^Expected ffprobe on the PATH but it was not found: install FFmpeg \(.*apt install ffmpeg/);
      const s = await videoSource(mp4, { width: 32, height: 32 });
      const run = await expectCode(take(s[Symbol.asyncIterator](), 1), 'ERR_TOOL_MISSING');
      expect(run.message).toMatch(/^Expected ffmpeg on the PATH/);
      await expectCode(gstreamerSource('videotestsrc'), 'ERR_TOOL_MISSING');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('refuses a path that is not there, unknown options and sizes out of range', async () => {
    const err = await expectCode(videoSource('/nonexistent/clip.mp4'), 'ERR_INVALID_ARG');
    expect(err.message).toMatch(/^Expected a video file, a URL \(rtsp:\/\/\.\.\.\) or a camera device \(\/dev\/videoN\) for uri but received "\/nonexistent\/clip\.mp4 \(ENOENT\)"/);
    await expectCode(videoSource(mp4, { size: 3 } as never), 'ERR_INVALID_ARG');
    await expectCode(videoSource(mp4, { width: 0 }), 'ERR_INVALID_ARG');
    await expectCode(videoSource(mp4, { restart: { factor: 0.5 } }), 'ERR_INVALID_ARG');
  });
});

describeMedia('videoSource from an RTSP server (an IP camera)', ['ffmpeg', 'ffprobe', RTSP_SERVER], () => {
  it('pulls frames over RTSP/TCP, restarts with backoff while the server is gone, and resumes when it is back', async () => {
    let server = await startRtspServer(0);
    const events: RestartEvent[] = [];
    const s = await videoSource(server.url, { inputOptions: ['-rtsp_transport', 'tcp'], restart: { initialDelayMs: 50, maxDelayMs: 400, attempts: 50 }, onRestart: (e) => events.push(e) });
    try {
      expect([s.width, s.height, s.fps, s.live, s.drop]).toEqual([64, 48, 15, true, 'latest']);
      const it = s[Symbol.asyncIterator]();
      expect(await take(it, 3)).toHaveLength(3);
      const before = s.counters.frames;
      server.process.kill('SIGKILL');
      await until(() => events.length >= 2);
      expect(events[0].attempt).toBe(1);
      expect(events[1].delayMs).toBe(2 * events[0].delayMs);
      server = await startRtspServer(server.port);
      expect((await take(it, 3)).every((f) => f.width === 64 && f.height === 48)).toBe(true);
      expect(s.counters.frames).toBeGreaterThan(before);
    } finally {
      await s.close();
      server.process.kill('SIGKILL');
    }
  });
});

describeMedia('gstreamerSource (gst-launch-1.0)', ['gst-launch-1.0'], () => {
  it('negotiates the size of videotestsrc and hands out its colours as rgb8', async () => {
    await using s = await gstreamerSource('videotestsrc pattern=solid-color foreground-color=0xffff0000 ! video/x-raw,width=48,height=36,framerate=10/1');
    expect([s.width, s.height, s.fps, s.live, s.drop]).toEqual([48, 36, 10, true, 'latest']);
    const [f] = await take(s[Symbol.asyncIterator](), 1);
    expect(f.data.length).toBe(48 * 36 * 3);
    const [r, g, b] = f.data.subarray(0, 3);
    expect(r).toBeGreaterThan(240);
    expect(g + b).toBeLessThan(16);
  });

  it('scales to the size asked for; a finite pipeline without restarts ends; close() reaps gst-launch', async () => {
    const s = await gstreamerSource('videotestsrc num-buffers=4', { width: 40, height: 30, restart: false, drop: 'none' });
    const frames: Frame[] = [];
    for await (const f of s) frames.push(f);
    expect(frames.map((f) => f.data.length)).toEqual(Array(4).fill(40 * 30 * 3));
    const live = await gstreamerSource('videotestsrc is-live=true', { width: 32, height: 24, fps: 30 });
    const it = live[Symbol.asyncIterator]();
    await take(it, 2);
    const pid = live.pid!;
    await live.close();
    expect(gone(pid)).toBe(true);
  });

  it("a pipeline that cannot start is a coded error with GStreamer's reason", async () => {
    const err = await expectCode(gstreamerSource('nosuchelementsrc'), 'ERR_SOURCE_FAILED');
    expect(err.message).toMatch(/nosuchelementsrc/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
