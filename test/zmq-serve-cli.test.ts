/**
 * `anchorseg serve` as a process: it reports its endpoints, serves the Python example
 * (examples/zmq_client.py) pushing images and listening to a local source, stops cleanly on
 * SIGTERM and SIGINT (exit 143 / 130, counts printed), and refuses a non-loopback endpoint without CURVE
 * and a CURVE key file whose public key is not its secret key's.
 */
import { spawn, execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { promisify } from 'node:util';
import { curveKeyPair } from 'zeromq';
import { afterAll, expect, test } from 'vitest';
import { CLI, PYTHON, ROOT, removeTemps, tempDir } from './fixtures/sdk-helpers.js';
import { LOOPBACK } from './zmq/harness.js';

const EXAMPLE = path.join(ROOT, 'examples', 'zmq_client.py');
const TEST_DIR = path.join(ROOT, 'models', 'data', 'reasonseg-synth', 'test');
const run = promisify(execFile);
/** Each test starts a CLI process that loads the model: generous on a loaded machine (a bound, not a measurement). */
const SLOW = 180_000;

/** Starts `anchorseg serve --json` on free loopback ports; resolves once it listens. */
async function serve(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'serve', '--json', '--control-endpoint', LOOPBACK.control, '--results-endpoint', LOOPBACK.results, '--frames-endpoint', LOOPBACK.frames, ...args]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: Record<string, any>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const listening = new Promise<Record<string, any>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line);
      lines.push(e);
      if (e.event === 'listening') resolve(e);
    });
    void exited.then((code) => reject(new Error(`serve exited ${code} before listening: ${stderr}`)));
  });
  return { child, lines, exited, listening: await listening, stderr: () => stderr };
}

afterAll(removeTemps);

const example = (args: string[]) => run(PYTHON, [EXAMPLE, ...args], { encoding: 'utf8' });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(
    `serves the Python example and stops cleanly on ${signal}`,
    async () => {
      const server = await serve(['--reason-every', '1']);
      try {
        const { control, results, frames } = server.listening.endpoints;
        expect(server.listening.state).toBe('waiting-for-goal');
        const images = ['00000.jpg', '00001.jpg'].map((f) => path.join(TEST_DIR, f));
        const { stdout } = await example(['--control', control, '--results', results, '--frames', frames, '--goal', 'the green banana', ...images]);
        const lines = stdout.trim().split('\n');
        expect(lines[0]).toMatch(/^server: anchorseg-tiny \S+ on \S+, waiting-for-goal, goal None$/);
        expect(lines[1]).toBe("goal set: 'the green banana'");
        expect(lines[2]).toMatch(/^00000: seq 0, (found|not found) \(score 0\.\d{3}\), \d+ px, (bbox \[.*\]|empty mask), anchor \(\d+, \d+\), [\d.]+ ms in the server$/);
        expect(lines[3]).toMatch(/^00001: seq 1, /);
      } finally {
        server.child.kill(signal);
      }
      expect(await server.exited).toBe({ SIGINT: 130, SIGTERM: 143 }[signal]);
      expect(server.lines.at(-1)).toMatchObject({ event: 'closed', signal, counters: { received: 2, invalid: 0, dropped: 0, results: 2, failures: 0, banks: 2 } });
      expect(server.stderr()).toContain(`anchorseg serve: stopped (${signal}); 2 results from 2 frames (0 dropped, 0 invalid, 0 failures)`);
    },
    SLOW,
  );
}

test(
  'a local image folder waits for the goal the Python example sets, then streams to it',
  async () => {
    const server = await serve(['--source', TEST_DIR, '--no-pace']);
    try {
      const { control, results } = server.listening.endpoints;
      expect(server.listening.endpoints.frames).toBeNull();
      const { stdout } = await example(['--control', control, '--results', results, '--goal', 'the red cup', '--rle', '--count', '3']);
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(5);
      // The folder's first frames, in order: nothing is read before the goal, nothing dropped after (--no-pace).
      expect(lines.slice(2).map((l) => l.split(':')[0])).toEqual([0, 1, 2].map((i) => path.join(TEST_DIR, `0000${i}.jpg`)));
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(143);
  },
  SLOW,
);

test(
  'refuses to bind beyond loopback without CURVE keys',
  async () => {
    const err = await run(process.execPath, [CLI, 'serve', '--control-endpoint', 'tcp://0.0.0.0:5555'], { encoding: 'utf8' }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toBe(
      'anchorseg: Expected a loopback endpoint (tcp://127.0.0.1, tcp://[::1], tcp://localhost, ipc://, inproc://) for options.control, or CURVE keys (options.curve) to bind beyond this machine, but received "tcp://0.0.0.0:5555" of type string (length 18) [ERR_INVALID_ARG]\n',
    );
  },
  SLOW,
);

test(
  "refuses a --curve-keys file whose public key is not its secret key's, naming the file and both keys",
  async () => {
    const mine = curveKeyPair();
    const other = curveKeyPair();
    const file = path.join(await tempDir('anchorseg-curve-'), 'server.json');
    await writeFile(file, JSON.stringify({ publicKey: other.publicKey, secretKey: mine.secretKey }));
    // The bound only ends a server that (wrongly) started; the refusal comes before the model loads.
    const args = [CLI, 'serve', '--curve-keys', file, '--control-endpoint', LOOPBACK.control, '--results-endpoint', LOOPBACK.results, '--frames-endpoint', LOOPBACK.frames];
    const err = await run(process.execPath, args, { encoding: 'utf8', timeout: SLOW / 2 }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toBe(`anchorseg: Expected publicKey ${mine.publicKey} (the public key of the secretKey) in ${file} but received ${other.publicKey} [ERR_INVALID_ARG]\n`);
  },
  SLOW,
);
