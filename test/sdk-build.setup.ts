import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * vitest global setup: compile the package (tsc -> dist/) so worker threads and the CLI run the
 * code under test. tsc still emits on type errors; they are printed here (and fail `npm run
 * typecheck`) rather than stopping every suite.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) process.stderr.write(`tsc reported errors (dist/ was still emitted):\n${r.stdout}${r.stderr}`);
}
