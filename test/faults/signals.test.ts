/**
 * SIGINT and SIGTERM at seeded random points of every long-running command (demo, stream, serve, view,
 * ros), the real CLI as a process: exit 130 / 143, and outputs complete whenever the command got
 * as far as writing any (its summary line, every results.jsonl line valid JSON and as many as the
 * summary says, serve's and ros's closing report). Each command gets one signal at a point
 * anywhere from its start (loading the model, often) and the other at a point after it runs. A
 * second signal while stopping ends the process at once with the first one's status (or its own,
 * once the command has finished and Node.js is tearing the process down).
 * A normal end (exit 0) is in test/stream-sinks-cli.test.ts and test/sdk-cli.test.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTemps, tempDir } from '../fixtures/sdk-helpers.js';
import { describeRos, isolateDomain } from '../ros/harness.js';
import { Cli, CRASH, random, seedLine, SIGNAL_STATUS, type Exit } from './harness.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type Sig = (typeof SIGNALS)[number];
const rnd = random('signals');
/** From the start: up to 3 s (mostly inside the model load on a busy machine); once running: up to 1.5 s in. */
const ANYWHERE_MS = 3000;
const RUNNING_MS = 1500;
const MODEL_LINE = /; backend \S+/;

beforeAll(() => {
  console.log(seedLine('signals'));
});
afterAll(removeTemps);

interface Point {
  signal: Sig;
  /** 'start': ms after the process starts; 'running': ms after it reports it runs. */
  from: 'start' | 'running';
  ms: number;
}

/** Both signals, one at each kind of point, which one where drawn from the seed. */
function points(): Point[] {
  const swap = rnd() < 0.5;
  return [
    { signal: swap ? 'SIGTERM' : 'SIGINT', from: 'start', ms: Math.round(rnd() * ANYWHERE_MS) },
    { signal: swap ? 'SIGINT' : 'SIGTERM', from: 'running', ms: Math.round(rnd() * RUNNING_MS) },
  ];
}

const title = (p: Point) => `${p.signal} ${p.ms} ms after it ${p.from === 'start' ? 'starts' : 'runs'}`;

/** Starts the command, sends the point's signal, returns its exit (a hang fails the test). */
async function interrupt(args: string[], running: RegExp, p: Point): Promise<{ cli: Cli; exit: Exit; ran: boolean }> {
  const cli = new Cli(args);
  if (p.from === 'running') expect(await cli.until(running), `${args[0]} never ran\n${cli.stderr}`).toBe(true);
  await sleep(p.ms);
  cli.kill(p.signal);
  const exit = await cli.exit();
  expect(exit.status, cli.stderr).toBe(SIGNAL_STATUS[p.signal]);
  expect(cli.stderr).not.toMatch(CRASH);
  return { cli, exit, ran: running.test(cli.stdout) };
}

/** Stopped before it ran: nothing on stdout, on stderr nothing (the signal ended it before its handler existed) or the one coded line. */
function expectStoppedEarly(cli: Cli): void {
  expect(cli.stdout).toBe('');
  expect(cli.stderr.trim()).toMatch(/^(anchorseg: .*\[ERR_ABORTED\])?$/);
}

/** results.jsonl holds exactly `n` lines, each a JSON result. */
function expectResults(dir: string, n: number): void {
  const file = path.join(dir, 'results.jsonl');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  expect(lines).toHaveLength(n);
  for (const line of lines) expect(JSON.parse(line)).toMatchObject({ frameIndex: expect.any(Number), rle: expect.anything() });
}

/** The summary line's result count, after checking it says the run was interrupted. */
function summaryCount(stdout: string): number {
  const m = /interrupted after (\d+) results from \d+ frames/.exec(stdout);
  expect(m, stdout.slice(-500)).not.toBeNull();
  return Number(m![1]);
}

describe('anchorseg demo', () => {
  for (const p of points()) {
    it(`${title(p)}: exit ${SIGNAL_STATUS[p.signal]}, summary printed, results and preview written`, async () => {
      const out = await tempDir();
      const { cli, ran } = await interrupt(['demo', '--threads', '1', '--out', out], MODEL_LINE, p);
      if (!ran) return expectStoppedEarly(cli);
      const n = summaryCount(cli.stdout);
      expect(cli.stdout).toContain(`results: ${path.join(out, 'results.jsonl')}`);
      expectResults(out, n);
      if (n > 0) expect(existsSync(path.join(out, 'preview.gif'))).toBe(true);
    });
  }

  it("a second signal while it stops ends it at once with the first one's status, at any point", async () => {
    for (let i = 0; i < 2; i++) {
      const cli = new Cli(['demo', '--threads', '1', '--out', await tempDir()]);
      // the first run: anywhere from the start (the model load, often); the second: while it runs
      if (i === 1) expect(await cli.until(MODEL_LINE)).toBe(true);
      await sleep(Math.round(rnd() * (i === 0 ? ANYWHERE_MS : RUNNING_MS)));
      cli.kill('SIGINT');
      await sleep(Math.round(rnd() * 50));
      cli.kill('SIGTERM');
      const exit = await cli.exit();
      expect(cli.stderr).not.toMatch(CRASH);
      // The second signal may land after the command finished stopping, while Node.js tears the
      // process down (its signal handlers already gone): it then ends the process by its own
      // default action, 143. Everything was written by then.
      const finished = /\[ERR_ABORTED\]\n$/.test(cli.stderr) || /interrupted after \d+ results/.test(cli.stdout);
      expect(finished ? [130, 143] : [130], cli.stderr).toContain(exit.status);
    }
  });
});

describe('anchorseg stream', () => {
  const sequence = path.join('models', 'data', 'reasonseg-synth', 'sequences', 'seq00');
  for (const p of points()) {
    it(`${title(p)}: exit ${SIGNAL_STATUS[p.signal]}, summary printed, every written result complete`, async () => {
      const out = path.join(await tempDir(), 'out');
      const { cli, ran } = await interrupt(['stream', sequence, '--fps', '15', '--threads', '1', '--out', out], MODEL_LINE, p);
      if (!ran) return expectStoppedEarly(cli);
      const n = summaryCount(cli.stdout);
      expect(cli.stdout).toContain(n > 0 ? `written to ${out}` : 'nothing written');
      expectResults(out, n);
    });
  }
});

describe('anchorseg serve', () => {
  const endpoints = ['--control-endpoint', 'tcp://127.0.0.1:*', '--results-endpoint', 'tcp://127.0.0.1:*', '--frames-endpoint', 'tcp://127.0.0.1:*'];
  for (const p of points()) {
    it(`${title(p)}: exit ${SIGNAL_STATUS[p.signal]}, the closing report on stdout and stderr`, async () => {
      const { cli, ran } = await interrupt(['serve', '--json', ...endpoints, '--source', 'seq00', '--loop', '--threads', '1'], /"event":"listening"/, p);
      if (!ran) return expectStoppedEarly(cli);
      const last = JSON.parse(cli.stdout.trim().split('\n').at(-1)!);
      expect(last).toMatchObject({ event: 'closed', signal: p.signal, counters: { results: expect.any(Number), failures: 0 } });
      expect(cli.stderr).toContain(`anchorseg serve: stopped (${p.signal}); ${last.counters.results} results`);
    });
  }
});

describe('anchorseg view', () => {
  for (const p of points()) {
    it(`${title(p)}: exit ${SIGNAL_STATUS[p.signal]}, the closing event with the counters`, async () => {
      const { cli, ran } = await interrupt(['view', '--json', '--view', '127.0.0.1:0', '--threads', '1'], /"event":"viewing"/, p);
      if (!ran) return expectStoppedEarly(cli);
      const last = JSON.parse(cli.stdout.trim().split('\n').at(-1)!);
      expect(last).toMatchObject({ event: 'closed', counters: { results: expect.any(Number), failures: 0 } });
    });
  }
});

describeRos('anchorseg ros', () => {
  beforeAll(() => {
    isolateDomain();
  });
  for (const p of points()) {
    it(`${title(p)}: exit ${SIGNAL_STATUS[p.signal]}, the closing report`, async () => {
      const { cli, ran } = await interrupt(['ros', '--json', '--name', `anchorseg_faults_${p.signal.toLowerCase()}`, '--goal', 'the red cup', '--threads', '1'], /"event":"ready"/, p);
      if (!ran) return expectStoppedEarly(cli);
      const last = JSON.parse(cli.stdout.trim().split('\n').at(-1)!);
      expect(last).toMatchObject({ event: 'closed', signal: p.signal, counters: expect.any(Object) });
    });
  }
});
