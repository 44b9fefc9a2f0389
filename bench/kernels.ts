/**
 * Kernel benchmark on this CPU: native vs TS reference vs sharp vs memcpy (sdk/kernels/benchmark.ts).
 *   npx tsc -p tsconfig.json && node dist/bench/kernels.js [--json]
 * The same measurement as `npx anchorseg bench --kernels [--json]`.
 */
import { benchKernels } from '../sdk/kernels/benchmark.js';

await benchKernels(undefined, process.argv.includes('--json'));
