import type { Command } from 'commander';
import { AnchorSegError } from '../../sdk/base/errors.js';
import type { Frame } from '../../sdk/base/frame.js';
import { StreamHost } from '../../sdk/stream/host.js';
import { defaultSequencesDir, paced, playSequences, readSequences } from '../../sdk/stream/sources.js';
import { modelLine } from '../live-view.js';
import { localSource } from '../local-source.js';
import { addReasonFlags, reasonFromFlags } from '../param-flags.js';
import { action, addEngineFlags, openSegmenter, positiveNumber, type EngineFlags } from '../run.js';
import { addViewAddressFlags, openViewer, viewAddress, type ViewFlags } from '../viewer/flags.js';

interface Flags extends EngineFlags, ViewFlags {
  input?: string;
  goal?: string;
  fps?: number;
  json?: boolean;
}

export function register(program: Command): void {
  addViewAddressFlags(
    addReasonFlags(
      addEngineFlags(
        program
          .command('view')
          .description(
            'watch it live: the live viewer (a web page: frame, mask outline, bbox, anchor, token map, goal box, counters) on the bundled demo sequences or --input, played like a camera until Ctrl-C (docs/viewer.md)',
          )
          .option(
            '-i, --input <path>',
            'an image folder, a sequence folder, or a bundled sequence name (seq00..) (default: every bundled sequence, each with its own goal until one is set in the page)',
          )
          .option('-g, --goal <text>', 'what to find (default: the sequence goal)')
          .option('--fps <n>', 'play the frames at this rate (default: the sequence rate, else 15)', positiveNumber)
          .option('--json', 'JSON lines on stdout: {"event":"viewing","url":...} when ready, {"event":"closed","counters":...} at exit'),
      ),
    ),
  ).action(action(run));
}

async function run(flags: Flags): Promise<void> {
  // SIGINT (a terminal) and SIGTERM (a supervisor) both stop it cleanly.
  const controller = new AbortController();
  const stop = (sig: NodeJS.Signals) => controller.abort(new Error(sig));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const signal = controller.signal;
  viewAddress(flags, true);

  let host: StreamHost | undefined;
  /** Set once the page (or --goal) chose the goal: the bundled sequences stop setting theirs. */
  let chosen = flags.goal !== undefined;
  let frames: AsyncIterable<Frame>;
  let goal = flags.goal;
  if (flags.input) {
    const local = await localSource({ source: flags.input, fps: flags.fps, pace: true, loop: true });
    frames = local.frames;
    goal ??= local.goal;
    if (goal === undefined) throw new AnchorSegError('ERR_INVALID_ARG', `Expected --goal for ${flags.input} (only a sequence folder brings its own goal) but received none`);
  } else {
    const sequences = await readSequences(defaultSequencesDir());
    goal ??= sequences[0].goal;
    const played = playSequences(sequences, { loops: Infinity, onSequence: (seq) => !chosen && host?.setGoal(seq.goal) });
    frames = paced(played, flags.fps ?? sequences[0].fps);
  }
  const seg = await openSegmenter(flags, signal);
  try {
    host = new StreamHost({ goal, source: frames, drop: 'latest', reason: reasonFromFlags(flags as unknown as Record<string, unknown>), signal });
    const h = host;
    const tap = h.tap((text) => {
      const read = h.setGoal(text);
      chosen = true;
      return read;
    });
    const viewer = await openViewer(tap, flags, true);
    try {
      if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'viewing', url: viewer!.url, goal: host.goal })}\n`);
      else process.stdout.write(`${modelLine(seg.manifest)}; backend ${seg.backend}\nopen ${viewer!.url} in a browser; Ctrl-C stops\n`);
      await host.run(seg, { onResult: () => undefined });
    } finally {
      await viewer!.close();
      await host.close();
    }
    const c = host.counters;
    if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'closed', counters: c })}\n`);
    else process.stdout.write(`${c.results} results from ${c.received} frames (${c.dropped} dropped), ${host.fps.toFixed(1)} fps\n`);
  } finally {
    await seg.close();
  }
}
