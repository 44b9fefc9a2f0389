/**
 * Bad frames, goals and messages through the real front ends, as processes: `anchorseg segment`
 * and `stream` with empty, huge and non-Latin goals and unreadable images (segment refuses one, stream skips it); `anchorseg serve` fed
 * malformed commands and frames by a pyzmq peer (test/zmq/peer.py). Each gets a coded refusal (or,
 * for a goal in another script, an honest "not found"), never a crash; the server keeps serving.
 * In detail elsewhere: the ZeroMQ codes and messages, test/zmq-malformed-messages.test.ts; the ROS 2
 * node's malformed images and refused goals, test/ros-node.test.ts; the SDK's, test/sdk-bad-input.test.ts,
 * test/stream-busy-bad-input.test.ts, test/sdk-goals-other-scripts.test.ts.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, removeTemps, ROOT, tempDir } from '../fixtures/sdk-helpers.js';
import { JsonProcess } from '../../bench/ros-processes.js';
import { PEER } from '../zmq/harness.js';
import { Cli, CRASH } from './harness.js';

afterAll(removeTemps);

const SEQUENCE = path.join(ROOT, 'models', 'data', 'reasonseg-synth', 'sequences', 'seq00');
const IMAGE = path.join(SEQUENCE, '0000.jpg');

async function run(args: string[]): Promise<Cli> {
  const cli = new Cli(args, { cwd: await tempDir() });
  await cli.exit();
  expect(cli.stderr).not.toMatch(CRASH);
  return cli;
}

describe('anchorseg segment and stream', () => {
  const refusals: [string, string, RegExp][] = [
    ['an empty goal', '', /Expected at least one letter or digit for goal but received "" .*\[ERR_GOAL_EMPTY\]/],
    ['a goal of punctuation', '  ?! ', /\[ERR_GOAL_EMPTY\]/],
    // a command line this long crashed onnxruntime (SIGSEGV) before the goal was even read
    ['a 20,000-character goal', 'x'.repeat(20_000), /Expected at most 512 characters for goal but received 20000 \[ERR_GOAL_TOO_LONG\]/],
    ['a goal of 100 words', 'cup '.repeat(100), /Expected at most 40 words for goal but received 100 \[ERR_GOAL_TOO_LONG\]/],
  ];
  for (const [name, goal, says] of refusals) {
    it(`${name}: one coded line, exit 1`, async () => {
      const cli = await run(['segment', IMAGE, '--goal', goal, '--threads', '1']);
      expect(await cli.exited).toMatchObject({ status: 1 });
      expect(cli.stderr.trim().split('\n')).toHaveLength(1);
      expect(cli.stderr).toMatch(says);
    });
  }

  it('a goal in another script: segmented, reported as unknown words and not found', async () => {
    const out = await tempDir();
    const cli = await run(['segment', IMAGE, '--goal', '找到杯子', '--out', out, '--threads', '1']);
    expect((await cli.exited).status, cli.stderr).toBe(0);
    expect(cli.stderr).toBe("anchorseg: words not in the model's vocabulary (read as unknown): 找到杯子\n");
    const json = JSON.parse(await readFile(path.join(out, '0000.json'), 'utf8'));
    expect(json).toMatchObject({ found: false, notFoundReason: 'no-content-word', goal: { text: '找到杯子' } });
  });

  it('an image that is not one, or cut short: ERR_FRAME_INVALID naming the file', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'text.jpg'), 'not an image\n');
    await writeFile(path.join(dir, 'cut.jpg'), (await readFile(IMAGE)).subarray(0, 3000));
    for (const file of ['text.jpg', 'cut.jpg']) {
      const cli = await run(['segment', path.join(dir, file), '--goal', 'the yellow pen', '--threads', '1']);
      expect((await cli.exited).status).toBe(1);
      expect(cli.stderr).toMatch(new RegExp(`^anchorseg: Expected a readable PNG or JPEG image at .*${file} but .* \\[ERR_FRAME_INVALID\\]\\n$`));
    }
  });

  it('stream: a folder with an unreadable image skips it with its coded line and goes on; every result written, complete', async () => {
    const dir = await tempDir();
    for (const f of ['0000.jpg', '0001.jpg', '0003.jpg']) await copyFile(path.join(SEQUENCE, f), path.join(dir, f));
    await writeFile(path.join(dir, '0002.jpg'), 'not an image\n');
    const out = path.join(await tempDir(), 'out');
    const cli = await run(['stream', dir, '--goal', 'the yellow pen', '--out', out, '--threads', '1']);
    expect((await cli.exited).status, cli.stderr).toBe(0);
    expect(cli.stderr).toMatch(/^anchorseg: skipped: Expected a readable PNG or JPEG image at .*0002\.jpg but .* \[ERR_FRAME_INVALID\]$/m);
    expect(cli.stdout).toMatch(/done: 3 results from 3 frames \(0 dropped, 0 invalid, 1 unreadable files skipped\)/);
    const lines = (await readFile(path.join(out, 'results.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l).frameId)).toEqual(['0000.jpg', '0001.jpg', '0003.jpg'].map((f) => path.join(dir, f)));
  });
});

describe('anchorseg serve', () => {
  it('malformed commands and frames from pyzmq, and a goal in another script: coded replies and error events, then it segments the next good frame', async () => {
    const any = 'tcp://127.0.0.1:*';
    let invalid = -1;
    const server = new Cli(['serve', '--json', '--control-endpoint', any, '--results-endpoint', any, '--frames-endpoint', any, '--goal', 'the red cup', '--threads', '1']);
    try {
      expect(await server.until(/"event":"listening"/), server.stderr).toBe(true);
      const endpoints = JSON.parse(server.stdout.split('\n')[0]).endpoints;
      const args = (mode: string, ...extra: string[]) => [PEER, mode, '--control', endpoints.control, '--results', endpoints.results, '--frames', endpoints.frames, ...extra];
      const malformed = new JsonProcess(PYTHON, args('malformed'));
      expect(await malformed.exited, malformed.stderr).toBe(0);
      const replies = malformed.all('reply');
      expect(replies.length).toBe(10);
      for (const r of replies)
        expect({ ok: (r.reply as any).ok, code: (r.reply as any).error.code, statusOk: r.statusOk, goal: r.goal }, r.case as string).toMatchObject({
          ok: false,
          code: expect.stringMatching(/^ERR_/),
          statusOk: true,
          goal: 'the red cup',
        });
      // One error event per malformed frame case the peer sends (it fails itself on a missing one).
      const frameErrors = malformed.all('frame-error');
      invalid = frameErrors.length;
      expect(new Set(frameErrors.map((e) => e.case)).size).toBe(invalid);
      expect(invalid).toBeGreaterThanOrEqual(11);
      for (const e of frameErrors) expect((e.error as any).code, e.case as string).toMatch(/^ERR_(PROTOCOL|FRAME_INVALID)$/);
      expect(malformed.all('result')).toEqual([expect.objectContaining({ frameId: 'good-after-bad', maskBytes: 64 * 48 })]);

      const other = new JsonProcess(PYTHON, args('request', '--json', JSON.stringify({ v: 2, cmd: 'set_goal', goal: '找到杯子' })));
      expect(await other.exited, other.stderr).toBe(0);
      expect(other.all('reply')[0].reply).toMatchObject({ ok: true });
    } finally {
      server.kill('SIGTERM');
    }
    expect((await server.exit()).status, server.stderr).toBe(143);
    expect(server.stderr).not.toMatch(CRASH);
    const closed = JSON.parse(server.stdout.trim().split('\n').at(-1)!);
    expect(closed).toMatchObject({ event: 'closed', counters: { invalid, results: 1, failures: 0 } });
  });
});
