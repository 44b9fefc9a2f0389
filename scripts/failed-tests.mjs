// Prints the failed tests of vitest JSON reports (one per suite), one per line with the start of the
// reason, so the last lines of a long CI log say what failed (the default reporter prints it far above the tail).
import { readFileSync } from 'node:fs';

for (const report of process.argv.slice(2)) printFailed(report);

function printFailed(report) {
  let results;
  try {
    results = JSON.parse(readFileSync(report, 'utf8')).testResults;
  } catch (err) {
    console.log(`FAILED test: no vitest report at ${report} (${err.message})`);
    return;
  }
  for (const file of results) {
    const failed = file.assertionResults.filter((t) => t.status === 'failed');
    if (file.status === 'failed' && failed.length === 0) {
      console.log(`FAILED file: ${file.name}: ${String(file.message).split('\n')[0].slice(0, 300)}`);
    }
    for (const t of failed) console.log(`FAILED test: ${file.name} > ${t.fullName}: ${reason(t)}`);
  }
}

function reason(test) {
  const first = String(test.failureMessages[0] ?? '').split('\n')[0];
  // vitest reports a test or hook that ran past its timeout with the stack of the place it was
  // declared, whose first line is this marker, not "timed out".
  if (first === 'Error: STACK_TRACE_ERROR') return `timed out after ${Math.round(test.duration ?? 0)} ms (test or hook timeout)`;
  return first.slice(0, 300);
}
