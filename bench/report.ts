#!/usr/bin/env node
/**
 * `npm run bench:report`: renders docs/benchmarks.md from the saved runs in bench/results/*.json
 * (written by `npm run bench -- <benchmark> --save`), then bench/results/earlier.md, the runs
 * recorded by hand before runs were saved, appended as it is. It runs no benchmark itself.
 * `--check`: exit 1 when the committed page differs from what the saved runs render to.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { PAGE, renderPage } from './render.js';
import { readRuns } from './results.js';

const program = new Command('bench:report')
  .description('render docs/benchmarks.md from bench/results/*.json (npm run bench -- <benchmark> --save writes them)')
  .option('--check', 'write nothing; exit 1 when docs/benchmarks.md is not what the saved runs render to')
  .action((flags: { check?: boolean }) => {
    const page = renderPage();
    const rel = path.relative(process.cwd(), PAGE);
    if (flags.check) {
      const current = existsSync(PAGE) ? readFileSync(PAGE, 'utf8') : '';
      if (current !== page) {
        process.stderr.write(`${rel} is stale: run npm run bench:report\n`);
        process.exitCode = 1;
      }
      return;
    }
    writeFileSync(PAGE, page);
    process.stderr.write(`wrote ${rel} from ${readRuns().length} saved runs\n`);
  });
await program.parseAsync();
