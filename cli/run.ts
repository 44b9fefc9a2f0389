import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { AnchorSegError } from '../sdk/base/errors.js';
import { packageRoot } from '../sdk/kernels/native.js';
import { Segmenter, type OpenOptions } from '../sdk/segmenter.js';

/** This package's version (package.json at the package root). */
export const VERSION = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

/** Options every command that runs the model accepts. */
export interface EngineFlags {
  bundle?: string;
  backend?: string;
  threads?: number;
}

/** `--bundle <dir>`, for commands that read a bundle without running it (info, build-engine). */
export function addBundleFlag(cmd: Command): Command {
  return cmd.option('--bundle <dir>', 'model bundle folder (default: the embedded anchorseg-tiny)');
}

/** `--bundle`, `--backend`, `--threads`: every command that runs the model takes these, with this meaning. */
export function addEngineFlags(cmd: Command): Command {
  return addBundleFlag(cmd).option('--backend <names>', 'backend, or a comma-separated preference list (default: best available)').option('--threads <n>', 'operator threads per engine', positiveInt);
}

/** A commander argument parser that accepts one of `values`. */
export function oneOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(values as readonly string[]).includes(value)) throw new InvalidArgumentError(`Expected ${values.join(' or ')} but received ${JSON.stringify(value)}.`);
    return value as T;
  };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`Expected a number > 0 but received ${JSON.stringify(value)}.`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`Expected an integer >= 0 but received ${JSON.stringify(value)}.`);
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`Expected an integer > 0 but received ${JSON.stringify(value)}.`);
  return n;
}

/** The signals that stop a long command, and its exit code for each: 128 + the signal's number, as a shell reports it. */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

/**
 * A signal that aborts on SIGINT (a terminal's Ctrl-C) or SIGTERM (a supervisor, a launcher), its
 * reason an Error named for the signal, so long commands stop cleanly: outputs completed, engines
 * closed, exit code 130 or 143 (set here, kept by `action()`). A second signal while stopping ends
 * the process at once by the first signal's default action (the shell sees the same code):
 * `process.exit()` would tear the engine workers down, which kills the process with SIGABRT while
 * onnxruntime creates a session (docs/robustness.md).
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const signals = Object.keys(STOP_SIGNALS) as StopSignal[];
  let first: StopSignal | undefined;
  const stop = (sig: StopSignal) => {
    if (first) {
      // With no listener left, Node restores the default action: the kill below ends the process.
      for (const s of signals) process.removeListener(s, stop);
      process.kill(process.pid, first);
      return;
    }
    first = sig;
    process.exitCode = STOP_SIGNALS[sig];
    controller.abort(new Error(sig));
  };
  for (const sig of signals) process.on(sig, stop);
  return controller.signal;
}

/** Resolves when `signal` aborts: a server or node runs until then. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export function openSegmenter(flags: EngineFlags, signal: AbortSignal): Promise<Segmenter> {
  const options: OpenOptions = { signal };
  if (flags.backend) options.backend = flags.backend;
  if (flags.threads) options.threads = flags.threads;
  return Segmenter.open(flags.bundle, options);
}

/**
 * Wraps a command action: a refused input or environment becomes one line on stderr and exit
 * code 1 (an interrupt: the code interruptSignal() set, else 130); anything unexpected exits 70, with the stack
 * only under ANCHORSEG_DEBUG. README.md, Exit codes, lists them.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof AnchorSegError) {
        process.stderr.write(`anchorseg: ${err.message.split('\n')[0]} [${err.code}]\n`);
        process.exitCode = err.code === 'ERR_ABORTED' ? (process.exitCode ?? STOP_SIGNALS.SIGINT) : 1;
      } else {
        const e = err instanceof Error ? err : new Error(String(err));
        process.stderr.write(`anchorseg: unexpected error: ${e.message.split('\n')[0]}\n`);
        if (process.env.ANCHORSEG_DEBUG) process.stderr.write(`${e.stack}\n`);
        process.exitCode = 70;
      }
    }
  };
}
