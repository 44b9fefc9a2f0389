/**
 * Kernel benchmark on this CPU: native vs TS reference vs sharp vs memcpy (sdk/kernels/benchmark.ts).
 *   npx tsc -p tsconfig.json && node dist/bench/kernels.js [--json] [--rounds N]
 * Same measurement as `npx anchorseg bench --kernels`; the last line is the JSON report with --json.
 */
import { benchmarkBundleKernels, formatKernelReport } from '../sdk/kernels/benchmark.js';

const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at >= 0 ? Number(args[at + 1]) : undefined;
const report = await benchmarkBundleKernels(undefined, { rounds });
process.stdout.write(`${formatKernelReport(report)}\n`);
if (args.includes('--json')) process.stdout.write(`${JSON.stringify(report)}\n`);
