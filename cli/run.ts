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

/** A signal that aborts on Ctrl-C, so long commands stop cleanly and close their engines. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  return controller.signal;
}

export function openSegmenter(flags: EngineFlags, signal: AbortSignal): Promise<Segmenter> {
  const options: OpenOptions = { signal };
  if (flags.backend) options.backend = flags.backend;
  if (flags.threads) options.threads = flags.threads;
  return Segmenter.open(flags.bundle, options);
}

/**
 * Wraps a command action: a refused input or environment becomes one line on stderr and exit
 * code 1 (an interrupt: 130); anything unexpected exits 70, with the stack only under ANCHORSEG_DEBUG.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof AnchorSegError) {
        process.stderr.write(`anchorseg: ${err.message.split('\n')[0]} [${err.code}]\n`);
        process.exitCode = err.code === 'ERR_ABORTED' ? 130 : 1;
      } else {
        const e = err instanceof Error ? err : new Error(String(err));
        process.stderr.write(`anchorseg: unexpected error: ${e.message.split('\n')[0]}\n`);
        if (process.env.ANCHORSEG_DEBUG) process.stderr.write(`${e.stack}\n`);
        process.exitCode = 70;
      }
    }
  };
}
