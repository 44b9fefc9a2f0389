/** `anchorseg stream --input <video> / --gst <pipeline>` as a user runs it: an MP4 written from a committed sequence, its masks checked against the sequence's ground truth. */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { groundTruth } from '../sdk/data/reasonseg.js';
import { rleDecode } from '../sdk/kernels/index.js';
import { defaultSequencesDir, readSequence, type Sequence } from '../sdk/stream/sources.js';
import { describeMedia, sequenceMp4 } from './fixtures/media.js';
import { CLI, maskIoU, removeTemps, tempDir } from './fixtures/sdk-helpers.js';

const exec = promisify(execFile);
const FRAMES = 24;
afterAll(removeTemps);

const cli = (args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) => exec(process.execPath, [CLI, ...args], { cwd, env, maxBuffer: 64 << 20 });
const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describeMedia('anchorseg stream --input / --gst', ['ffmpeg', 'ffprobe', 'gst-launch-1.0'], () => {
  let seq: Sequence;
  let mp4: string;
  beforeAll(async () => {
    seq = await readSequence(path.join(defaultSequencesDir(), 'seq00'));
    mp4 = await sequenceMp4(seq.dir, seq.fps, FRAMES, path.join(await tempDir('anchorseg-video-cli-'), 'seq00.mp4'));
  });

  it('an MP4 of a sequence: every frame segmented, masks on the target', async () => {
    const cwd = await tempDir();
    const { stdout } = await cli(['stream', '--input', mp4, '--goal', seq.goal, '--out', 'o', '--threads', '1'], cwd);
    expect(stdout).toMatch(/input {4}ffmpeg .*seq00\.mp4: 320x240 at 15 fps, file, drop none/);
    expect(stdout).toMatch(new RegExp(`done: ${FRAMES} results from ${FRAMES} frames \\(0 dropped, 0 invalid, 0 input restarts\\)`));
    const results = await lines(path.join(cwd, 'o', 'results.jsonl'));
    expect(results.map((r) => r.frameIndex)).toEqual([...Array(FRAMES).keys()]);
    const ious = results.map((r, k) => maskIoU(rleDecode(r.rle), groundTruth(seq.frames[k].shapes, seq.width, seq.height)));
    const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
    expect(results.every((r) => r.found)).toBe(true);
    expect(Math.min(...ious)).toBeGreaterThan(0.3);
    expect(mean).toBeGreaterThan(0.5);
    expect(await readdir(path.join(cwd, 'o', 'overlays'))).toHaveLength(FRAMES);
  });

  it('a GStreamer pipeline: a finite videotestsrc scaled to --width/--height, every frame', async () => {
    const cwd = await tempDir();
    const { stdout } = await cli(
      ['stream', '--gst', 'videotestsrc num-buffers=3', '--width', '64', '--height', '48', '--restarts', '0', '--drop', 'none', '-g', 'the red cup', '-o', 'o', '--no-overlays', '--threads', '1'],
      cwd,
    );
    expect(stdout).toMatch(/input {4}gst-launch-1.0 videotestsrc num-buffers=3: 64x48, live, drop none/);
    expect(stdout).toMatch(/done: 3 results from 3 frames/);
    expect((await lines(path.join(cwd, 'o', 'results.jsonl'))).map((r) => [r.width, r.height])).toEqual(Array(3).fill([64, 48]));
  });

  it('a live input runs until Ctrl-C: exit 130, the counters printed, ffmpeg stopped with the command', async () => {
    const cwd = await tempDir();
    const child = spawn(process.execPath, [CLI, 'stream', '--input', 'testsrc=size=64x48:rate=15', '--input-format', 'lavfi', '--realtime', '-g', 'the red cup', '-o', 'o', '--threads', '1'], { cwd });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    while (!/frame \d+/.test(stdout)) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stdout).toMatch(/input {4}ffmpeg testsrc=size=64x48:rate=15: 64x48 at 15 fps, live, drop latest/);
    const decoders = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((l) => l.endsWith('ffmpeg'));
    expect(decoders).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).toMatch(/interrupted after \d+ results from \d+ frames \(\d+ dropped, 0 invalid, 0 input restarts\)/);
    const pid = Number(decoders[0].trim().split(/\s+/)[0]);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('view takes the same inputs: an MP4 played into the live viewer, its status counting results, Ctrl-C exits 130', async () => {
    const child = spawn(process.execPath, [CLI, 'view', '--input', mp4, '--realtime', '-g', seq.goal, '--view', '127.0.0.1:0', '--json', '--threads', '1']);
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const events: { event: string; url?: string; counters?: { results: number } }[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        events.push(JSON.parse(line));
        if (events.at(-1)!.event === 'viewing') resolve(events.at(-1)!.url!);
      });
      void closed.then((code) => reject(new Error(`anchorseg view exited ${code}`)));
    });
    let status: { counters: { results: number } } | undefined;
    for (let i = 0; i < 300 && !(status && status.counters.results > 0); i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await (await fetch(new URL('/status', url))).json();
    }
    expect(status!.counters.results).toBeGreaterThan(0);
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    expect(events.at(-1)!.event).toBe('closed');
  });

  it('without ffmpeg on the PATH, or with two inputs, one coded line and exit code 1', async () => {
    const cwd = await tempDir();
    const missing = await cli(['stream', '--input', mp4, '-g', 'the pen'], cwd, { ...process.env, PATH: '/nonexistent' }).catch((e) => e);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^anchorseg: Expected ffprobe on the PATH but it was not found: install FFmpeg \(.*apt install ffmpeg.*\), which brings ffprobe \[ERR_TOOL_MISSING\]\n$/);
    const both = await cli(['stream', cwd, '--input', mp4, '-g', 'the pen'], cwd).catch((e) => e);
    expect(both.code).toBe(1);
    expect(both.stderr).toBe('anchorseg: Expected one of <source>, --input or --gst but received <source> and --input [ERR_INVALID_ARG]\n');
    expect(await readdir(cwd)).toEqual([]);
  });
});
