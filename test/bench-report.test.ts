/**
 * docs/benchmarks.md is generated: it must be what `npm run bench:report` renders from the saved
 * runs in bench/results/*.json, and each saved run must say how it was made. (No timing here.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAGE, renderBenchmarks, renderPage } from '../bench/render.js';
import { BENCHMARKS, commandLine, readRuns } from '../bench/results.js';

describe('docs/benchmarks.md', () => {
  const runs = readRuns();

  it('is what the saved runs render to (rerun npm run bench:report after saving a run)', () => {
    expect(readFileSync(PAGE, 'utf8')).toBe(renderPage());
  });

  it('every saved run names its benchmark, the command that made it, the machine and the commit', () => {
    expect(runs.length).toBeGreaterThan(0);
    for (const { name, run } of runs) {
      expect(BENCHMARKS, name).toContain(run.benchmark);
      expect(run.command, name).toMatch(new RegExp(`^(bash ros/with-ros\\.sh )?npm run bench -- ${run.benchmark} `));
      expect(run.command, name).toContain('--save');
      expect(Number.isNaN(Date.parse(run.date)), name).toBe(false);
      expect(run.commit, name).not.toMatch(/dirty|unknown/); // a clean checkout: the code measured is a commit
      expect(run.machine.cpus, name).toBeGreaterThan(0);
      expect(run.bundle, name).toMatch(/^\S+ \d+\.\d+\.\d+/);
    }
  });

  it('shows each run with its command line, date and headline ratio', () => {
    const page = renderBenchmarks({ runs });
    for (const { name, run } of runs) {
      expect(page).toContain(`### ${name}\n`);
      expect(page).toContain(run.command);
      expect(page).toContain(run.date.slice(0, 10));
    }
  });
});

describe('commandLine', () => {
  it('writes the command as typed, the benchmark named even when it was the default, quoting what needs it', () => {
    expect(commandLine('model', ['-n', '8', '--save'])).toBe('npm run bench -- model -n 8 --save');
    expect(commandLine('zmq', ['zmq', '--transport', 'ipc', '--note', "it's busy"])).toBe(`npm run bench -- zmq --transport ipc --note 'it'\\''s busy'`);
    expect(commandLine('ros', ['ros', '--seconds', '5'])).toBe('bash ros/with-ros.sh npm run bench -- ros --seconds 5');
  });
});
