/**
 * Saved benchmark runs: `npm run bench -- <benchmark> --save [name]` writes bench/results/<name>.json
 * (the report plus the machine, date, command line and commit it was measured with);
 * `npm run bench:report` renders every saved run into docs/benchmarks.md (bench/report.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../sdk/kernels/native.js';
import { defaultBundleDir } from '../sdk/model/bundle.js';
import { MANIFEST_FILE } from '../sdk/model/manifest.js';

export const BENCHMARKS = ['model', 'bundles', 'kernels', 'stream', 'zmq', 'ros', 'view', 'soak'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export const RESULTS_DIR = path.join(packageRoot(), 'bench', 'results');

export interface Machine {
  cpu: string;
  cpus: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average when the benchmark started and when it ended. */
  loadStart: number;
  loadEnd: number;
}

export interface SavedRun<R = unknown> {
  benchmark: BenchmarkName;
  /** The command line that produced it, as typed in the repository root. */
  command: string;
  /** ISO time at the end of the run. */
  date: string;
  /** `git describe --always --dirty` of the checkout that ran it. */
  commit: string;
  machine: Machine;
  /** The bundle measured, "name version" from its manifest. */
  bundle: string;
  /** `--note`: the conditions of the run as its author saw them. */
  note?: string;
  /** The report the benchmark prints as its `--json` line. */
  report: R;
}

/** Records what the machine looks like now; call `finish()` when the run ends. */
export function machineProbe(): { finish(): Machine } {
  const loadStart = loadavg()[0];
  return {
    finish: () => ({
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cpus: availableParallelism(),
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${process.platform} ${release()} ${process.arch}`,
      node: process.version,
      loadStart,
      loadEnd: loadavg()[0],
    }),
  };
}

function commit(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: packageRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The command line of this process as a user types it (`npm run bench -- ...`), `--save` included. */
export function commandLine(benchmark: BenchmarkName, argv = process.argv.slice(2)): string {
  const quote = (a: string) => (/^[\w./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const args = argv[0] === benchmark ? argv : [benchmark, ...argv];
  return `${benchmark === 'ros' ? 'bash ros/with-ros.sh ' : ''}npm run bench -- ${args.map(quote).join(' ')}`;
}

/** "name version" of the bundle in `dir` (default: the embedded one), from its manifest. */
export function bundleName(dir = defaultBundleDir()): string {
  try {
    const m = (JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as { model: { name: string; version: string } }).model;
    return `${m.name} ${m.version}`;
  } catch {
    return `unknown (${dir})`;
  }
}

/** Writes bench/results/<name>.json; returns its path. */
export function saveRun(name: string, run: Omit<SavedRun, 'date' | 'commit'>): string {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`Expected a file name of letters, digits, ".", "_" or "-" for --save but received ${JSON.stringify(name)}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.json`);
  const saved: SavedRun = {
    benchmark: run.benchmark,
    command: run.command,
    date: new Date().toISOString(),
    commit: commit(),
    machine: run.machine,
    bundle: run.bundle,
    ...(run.note && { note: run.note }),
    report: run.report,
  };
  writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`);
  return file;
}

/** Every saved run, by file name (without .json), in name order. */
export function readRuns(dir = RESULTS_DIR): { name: string; run: SavedRun }[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
  return names.map((f) => ({ name: f.slice(0, -'.json'.length), run: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as SavedRun }));
}
