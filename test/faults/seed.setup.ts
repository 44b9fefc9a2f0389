/**
 * vitest global setup of the fault suite: one seed for the whole run, drawn here (unless
 * ANCHORSEG_FAULT_SEED gives one) and handed to every test file through the environment, which
 * the workers inherit; printed once so a failing run can be replayed.
 */
export default function setup(): void {
  process.env.ANCHORSEG_FAULT_SEED ??= String(Math.floor(Math.random() * 2 ** 31));
  const seed = process.env.ANCHORSEG_FAULT_SEED;
  process.stdout.write(`fault seed ${seed} (replay: ANCHORSEG_FAULT_SEED=${seed} npm run test:faults)\n`);
}
