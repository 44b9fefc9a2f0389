/**
 * Shared by the fault suite (test/faults/, `npm run test:faults`): the run's seed (seed.setup.ts;
 * ANCHORSEG_FAULT_SEED replays one), seeded random points, and the CLI as a child process whose
 * output, exit status and hang-freedom the tests check.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { CLI } from '../fixtures/sdk-helpers.js';

/** This run's seed (drawn once per run by seed.setup.ts): every random point in the suite derives from it. */
export const SEED = Number(process.env.ANCHORSEG_FAULT_SEED);
if (!Number.isInteger(SEED)) throw new Error(`Expected an integer ANCHORSEG_FAULT_SEED but received ${JSON.stringify(process.env.ANCHORSEG_FAULT_SEED)}`);

/** A line for the log next to a file's results, so a failing run can be replayed exactly. */
export function seedLine(file: string): string {
  return `${file}: fault seed ${SEED} (replay: ANCHORSEG_FAULT_SEED=${SEED} npm run test:faults)`;
}

/**
 * A random source in [0, 1) for one named use (mulberry32 seeded by SEED and the name), so each
 * test's points depend on the seed only, not on which tests ran before it.
 */
export function random(name: string): () => number {
  let a = SEED;
  for (const c of name) a = Math.imul(a ^ c.charCodeAt(0), 2654435761);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The exit status as a shell reports it: the code, or 128 + the signal's number for a process a signal ended. */
export interface Exit {
  status: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A bound on a broken process, never a measurement: a process still running after it has hung. */
export const HANG_MS = 90_000;

/** `anchorseg <args>` as a user runs it (dist/, built by the suite's setup), its output collected. */
export class Cli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exit>;
  readonly #waiters = new Set<() => void>();

  constructor(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const wake = () => {
      for (const w of this.#waiters) w();
    };
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      wake();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      wake();
    });
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        resolve({ status: code ?? 128 + constants.signals[signal!], code, signal });
        wake();
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves true once stdout matches `pattern`, false if the process ended first. */
  async until(pattern: RegExp): Promise<boolean> {
    while (!pattern.test(this.stdout)) {
      if (!this.running) return pattern.test(this.stdout);
      await new Promise<void>((resolve) => {
        const w = () => {
          this.#waiters.delete(w);
          resolve();
        };
        this.#waiters.add(w);
      });
    }
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** The exit, or a failure naming the process and its output if it is still running after HANG_MS (then it is killed). */
  async exit(): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`anchorseg ${this.child.spawnargs.slice(2, 4).join(' ')} still running after ${HANG_MS} ms (hung)\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-2000)}`));
      }, HANG_MS);
    });
    try {
      return await Promise.race([this.exited, hang]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What a signal's exit code is (128 + its number): README.md, Exit codes. */
export const SIGNAL_STATUS = { SIGINT: 130, SIGTERM: 143 } as const;

/** On stderr only when a process crashed: an abort from C++, a fatal signal's report, a stack trace. */
export const CRASH = /terminate called|Aborted|Segmentation fault|FATAL ERROR|\n\s+at /;
