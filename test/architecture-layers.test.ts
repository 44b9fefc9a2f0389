/**
 * The folder import graph (docs/architecture.md): every import between folders points down the
 * layer order, so there is no cycle; the library entry points never load the CLI's or the
 * benchmarks' dependencies. Type-only imports count too: they couple folders as much as values.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './fixtures/sdk-helpers.js';

/** Lower number = lower layer. A folder may import only folders of a strictly lower layer; a front end's subfolders are part of it. */
const LAYERS: Record<string, number> = {
  'sdk/base': 0,
  'sdk/kernels': 1,
  'sdk/data': 1,
  'sdk/backends': 2,
  'sdk/model': 3,
  'sdk/stream': 4,
  sdk: 5,
  zmq: 6,
  ros: 6,
  cli: 7,
  bench: 8,
  examples: 9,
};
/** What `anchorseg`, `anchorseg/zmq` and `anchorseg/ros` export from. */
const ENTRY_POINTS = ['sdk/index.ts', 'zmq/index.ts', 'ros/index.ts'];
/** Packages only the CLI and the benchmarks use: a library import must not load them. */
const FRONT_END_ONLY = ['commander', 'cli-progress'];

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

function imports(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]);
}

/** A relative specifier as a repository path (`.js` resolved to its `.ts` source). */
function resolve(from: string, spec: string): string {
  return path.relative(ROOT, path.resolve(ROOT, path.dirname(from), spec)).replace(/\.js$/, '.ts');
}

const files = Object.keys(LAYERS)
  .filter((d) => !d.includes('/'))
  .flatMap(sources);
/** A file's layer folder: the longest LAYERS key that holds it (cli/commands/x.ts is in cli). */
function folder(file: string): string {
  const dir = path.dirname(file);
  return (
    Object.keys(LAYERS)
      .filter((k) => dir === k || dir.startsWith(`${k}/`))
      .reduce((a, k) => (k.length > a.length ? k : a), '') || dir
  );
}

describe('layers', () => {
  it('every source file sits in a folder with a layer', () => {
    expect(files.filter((f) => LAYERS[folder(f)] === undefined)).toEqual([]);
  });

  it('imports between folders only point down (so the folder graph has no cycle)', () => {
    const upward: string[] = [];
    for (const f of files) {
      for (const spec of imports(f).filter((s) => s.startsWith('.'))) {
        const target = resolve(f, spec);
        const [a, b] = [folder(f), folder(target)];
        if (a !== b && !(LAYERS[b] < LAYERS[a])) upward.push(`${f} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it(`the library entry points never reach ${FRONT_END_ONLY.join(', ')}, the CLI or the benchmarks`, () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const walk = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      if (/^(cli|bench|test)\//.test(f)) bad.push(f);
      for (const spec of imports(f)) {
        if (spec.startsWith('.')) walk(resolve(f, spec));
        else if (FRONT_END_ONLY.includes(spec)) bad.push(`${f} imports ${spec}`);
      }
    };
    ENTRY_POINTS.forEach(walk);
    expect(seen.size).toBeGreaterThan(30);
    expect(bad).toEqual([]);
  });
});
