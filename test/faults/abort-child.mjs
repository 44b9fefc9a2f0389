// Run by test/faults/aborts.test.ts in its own process: a crash is an exit status, a leak a process
// that does not end. argv[2]: JSON {open, segment, stream}, each a list of points (0 to 1, 1.5 for calls that may finish) drawn
// from the suite's seed, as fractions of a measured warm open, segment() or 8 stream frames.
// Aborts each call at its point, closes everything, lets the event loop drain (no process.exit)
// and prints one JSON line of outcomes per kind plus the threads left.
import { readFileSync } from 'node:fs';
import { Segmenter, playSequences, readSequence } from '../../dist/sdk/index.js';

const points = JSON.parse(process.argv[2]);
const sequence = process.argv[3];
const threads = () => Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const GOALS = ['the yellow pen', 'the thing I can pour water into', 'the red cup'];

const frames = [];
for await (const f of playSequences([await readSequence(sequence)])) if (frames.push(f) >= 8) break;

/** Runs `call(signal)` with an abort at `ms`; 'done' (it finished first), 'aborted' (ERR_ABORTED) or the other error. */
async function abortAt(ms, call) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`abort at ${ms.toFixed(1)} ms`)), ms);
  try {
    await call(controller.signal);
    return 'done';
  } catch (err) {
    return err.code === 'ERR_ABORTED' ? 'aborted' : `${err.code ?? 'uncoded'}: ${err.message}`;
  } finally {
    clearTimeout(timer);
  }
}

const timed = async (work) => {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
};

// Warm-up measures each kind of call; the thread count after it is what must be left at the end.
let openMs = Infinity;
for (let i = 0; i < 2; i++) openMs = Math.min(openMs, await timed(async () => (await Segmenter.open(undefined, { threads: 1 })).close()));
const seg = await Segmenter.open(undefined, { threads: 1 });
let segmentMs = Infinity;
for (let i = 0; i < 3; i++) segmentMs = Math.min(segmentMs, await timed(() => seg.segment(frames[i], GOALS[i])));
const streamMs = await timed(async () => {
  for await (const _ of seg.stream(frames, { goal: GOALS[0] }));
});
await sleep(200);
const baseline = threads();

const outcomes = { open: [], segment: [], stream: [], after: null };
for (const p of points.open) {
  outcomes.open.push(
    await abortAt(p * openMs, async (signal) => {
      await (await Segmenter.open(undefined, { threads: 1, signal })).close();
    }),
  );
}
for (const [i, p] of points.segment.entries()) {
  // a new goal each call: the reasoner runs too, not only vision and decoder
  outcomes.segment.push(await abortAt(p * segmentMs, (signal) => seg.segment(frames[i % frames.length], GOALS[i % GOALS.length], { signal })));
}
for (const [i, p] of points.stream.entries()) {
  outcomes.stream.push(
    await abortAt(p * streamMs, async (signal) => {
      let n = 0;
      for await (const _ of seg.stream(frames, { goal: GOALS[i % GOALS.length], signal })) n++;
      // a stream aborted ends cleanly after the result in hand
      if (signal.aborted) throw Object.assign(new Error(`ended after ${n}`), { code: 'ERR_ABORTED' });
    }),
  );
}
// The segmenter still works after every abort.
outcomes.after = (await seg.segment(frames[0], GOALS[0])).width;
await seg.close();
let left = threads();
for (let i = 0; i < 300 && left > baseline; i++) {
  await sleep(100);
  left = threads();
}
process.stdout.write(`${JSON.stringify({ openMs, segmentMs, streamMs, baseline, left, ...outcomes })}\n`);
