/** Stream outputs as a user gets them: StreamWriter files, `anchorseg stream`, `anchorseg demo`, and the streaming benchmark, on the real bundle and real sequence frames. */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamBenchmark } from '../bench/stream.js';
import { rleDecode } from '../sdk/kernels/index.js';
import { Segmenter } from '../sdk/segmenter.js';
import { StreamWriter } from '../sdk/stream/sinks.js';
import { playSequences, readSequence } from '../sdk/stream/sources.js';
import { BENCH, CLI, expectCode, removeTemps, tempDir } from './fixtures/sdk-helpers.js';
import { sequences } from './fixtures/stream-frames.js';

const exec = promisify(execFile);
const FRAMES = 8;
let root: string;
let seqDir: string;

/** A sequences folder holding the first FRAMES frames of the first committed sequence. */
beforeAll(async () => {
  const [seq] = await sequences();
  root = path.join(await tempDir('anchorseg-stream-'), 'sequences');
  seqDir = path.join(root, seq.name);
  await mkdir(seqDir, { recursive: true });
  const meta = JSON.parse(await readFile(path.join(seq.dir, 'sequence.json'), 'utf8')) as { frames: { file: string }[] };
  meta.frames = meta.frames.slice(0, FRAMES);
  for (const f of meta.frames) await copyFile(path.join(seq.dir, f.file), path.join(seqDir, f.file));
  await writeFile(path.join(seqDir, 'sequence.json'), JSON.stringify(meta));
});
afterAll(removeTemps);

const cli = (args: string[], cwd: string) => exec(process.execPath, [CLI, ...args], { cwd, maxBuffer: 64 << 20 });

describe('StreamWriter', () => {
  it('writes a mask and an overlay PNG per result, a JSON line whose RLE is the mask, and a GIF preview', async () => {
    const seq = await readSequence(seqDir);
    const out = await tempDir();
    await using seg = await Segmenter.open(undefined, { threads: 1 });
    const writer = await StreamWriter.open(out, { gif: { fps: 5 } });
    const masks: Uint8Array[] = [];
    for await (const r of seg.stream(playSequences([seq]), { goal: seq.goal, drop: 'none' })) {
      await writer.write(r);
      masks.push(r.mask);
    }
    const files = await writer.close();
    expect(files.results).toBe(FRAMES);
    const lines = (await readFile(files.json!, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.frameIndex)).toEqual([...Array(FRAMES).keys()]);
    for (const [i, l] of lines.entries()) {
      expect(l.goal).toBe(seq.goal);
      expect(Buffer.from(rleDecode(l.rle)).equals(Buffer.from(masks[i]))).toBe(true);
      const png = await sharp(path.join(out, l.files.mask)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      expect(png.info).toMatchObject({ width: seq.width, height: seq.height, channels: 1 });
      expect(png.data.equals(Buffer.from(masks[i]))).toBe(true);
      expect((await sharp(path.join(out, l.files.overlay)).metadata()).width).toBe(seq.width);
    }
    const gif = await readFile(files.gif!);
    expect(gif.subarray(0, 6).toString('latin1')).toBe('GIF89a');
    expect((await sharp(gif, { animated: true }).metadata()).pages).toBe(FRAMES);
    await expectCode(() => writer.write({} as never), 'ERR_DISPOSED');
  });
});

describe('CLI', () => {
  it('anchorseg stream <sequence> writes masks, overlays and one JSON line per frame', async () => {
    const cwd = await tempDir();
    const { stdout } = await cli(['stream', seqDir, '--out', 'o', '--reason-every', '2', '--threads', '1'], cwd);
    expect(stdout).toMatch(new RegExp(`done: ${FRAMES} results from ${FRAMES} frames \\(0 dropped, 0 invalid\\)`));
    expect(await readdir(path.join(cwd, 'o', 'masks'))).toHaveLength(FRAMES);
    expect(await readdir(path.join(cwd, 'o', 'overlays'))).toHaveLength(FRAMES);
    const lines = (await readFile(path.join(cwd, 'o', 'results.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.bank.ageFrames)).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(lines.filter((l) => l.bank.ageFrames === 0).map((l) => l.bank.reason)).toEqual(['goal-change', 'every', 'every', 'every']);
  });

  it('anchorseg stream refuses a folder without images, and an image folder without a goal, with one coded line', async () => {
    const cwd = await tempDir();
    const empty = await tempDir();
    await expect(cli(['stream', empty, '-g', 'the cup'], cwd)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/Expected PNG or JPEG files in .* but found none \[ERR_DATA_INVALID\]/),
    });
    await expect(cli(['stream', empty], cwd)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/Expected --goal .*\[ERR_INVALID_ARG\]/) });
  });

  it('a choice flag outside its values is refused with what was expected and received', async () => {
    const cwd = await tempDir();
    await expect(cli(['stream', cwd, '--drop', 'oldest'], cwd)).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('Expected latest or none but received "oldest"') });
    await expect(exec(process.execPath, [BENCH, 'zmq', '--transport', 'udp'], { cwd })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('Expected tcp or ipc but received "udp"') });
  });

  it('anchorseg demo --frames N: plain progress lines off a TTY, N overlays, results.jsonl and a GIF', async () => {
    const cwd = await tempDir();
    const { stdout } = await cli(['demo', '--frames', String(FRAMES), '--no-pace', '--sequences', root, '--threads', '1'], cwd);
    expect(stdout).toMatch(/^model anchorseg-tiny/);
    expect(stdout).toMatch(/frame +1\/8 .*goal "/);
    expect(stdout).not.toContain('\x1b['); // no cursor movement when stdout is not a terminal
    expect(stdout).toMatch(/done: 8 results from 8 frames \(0 dropped\)/);
    expect(await readdir(path.join(cwd, 'out', 'demo', 'overlays'))).toHaveLength(FRAMES);
    const gif = await readFile(path.join(cwd, 'out', 'demo', 'preview.gif'));
    expect((await sharp(gif, { animated: true }).metadata()).pages).toBe(FRAMES / 2);
  });
});

describe('streamBenchmark', () => {
  it('reports every policy and the figures bench stream --json promises', async () => {
    const r = await streamBenchmark({ sequencesDir: root, rounds: 1, longFrames: 20, threads: 1 });
    expect(Object.keys(r.policies)).toEqual(['perFrame', 'every2', 'every4', 'every8', 'adaptive', 'goalOnly']);
    expect(r.policies.perFrame.reasonerRate).toBe(1);
    expect(r.policies.every2.reasonerRate).toBe(0.5);
    expect(r.policies.goalOnly.reasonerRate).toBe(1 / FRAMES);
    for (const p of Object.values(r.policies)) {
      expect(p.frames).toBe(FRAMES);
      expect(p.gIoU).toBeGreaterThanOrEqual(0);
      expect(p.gIoU).toBeLessThanOrEqual(1);
    }
    expect(r.dualRate.every).toBe(4);
    for (const key of ['speedup', 'idealSpeedup', 'iouRetention', 'eventLoopLagP99Ms', 'rssGrowthPct'] as const) expect(Number.isFinite(r[key])).toBe(true);
    expect(r.long.frames).toBeGreaterThanOrEqual(20);
  });
});
