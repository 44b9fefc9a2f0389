import type { Command } from 'commander';
import { AnchorSegError } from '../../sdk/base/errors.js';
import type { Frame } from '../../sdk/base/frame.js';
import type { VideoSource } from '../../sdk/stream/video-process.js';
import { StreamHost } from '../../sdk/stream/host.js';
import { defaultSequencesDir, paced, playSequences, readSequences } from '../../sdk/stream/sources.js';
import { modelLine } from '../live-view.js';
import { addInputFlags, describeVideo, inputGiven, openInput, type InputFlags } from '../inputs.js';
import { addReasonFlags, reasonFromFlags } from '../param-flags.js';
import { action, addEngineFlags, interruptSignal, openSegmenter, positiveNumber, type EngineFlags } from '../run.js';
import { addViewAddressFlags, openViewer, viewAddress, type ViewFlags } from '../viewer/flags.js';

interface Flags extends EngineFlags, ViewFlags, InputFlags {
  goal?: string;
  json?: boolean;
}

export function register(program: Command): void {
  addViewAddressFlags(
    addReasonFlags(
      addEngineFlags(
        addInputFlags(
          program
            .command('view')
            .description(
              'watch it live: the live viewer (a web page: frame, mask outline, bbox, anchor, token map, goal box, counters) on the bundled demo sequences (default), a folder, a video (--input) or a GStreamer pipeline (--gst), played like a camera until Ctrl-C (docs/viewer.md)',
            ),
        )
          .option('-g, --goal <text>', 'what to find (default: the sequence goal)')
          .option('--fps <n>', 'play folder frames at this rate (default: the sequence rate, else 15); --input/--gst: the output frame rate', positiveNumber)
          .option('--json', 'JSON lines on stdout: {"event":"viewing","url":...} when ready, {"event":"closed","counters":...} at exit'),
      ),
    ),
  ).action(action(run));
}

async function run(source: string | undefined, flags: Flags): Promise<void> {
  // SIGINT (a terminal) and SIGTERM (a supervisor) both stop it cleanly: exit 130 / 143.
  const signal = interruptSignal();
  viewAddress(flags, true);

  let host: StreamHost | undefined;
  /** Set once the page (or --goal) chose the goal: the bundled sequences stop setting theirs. */
  let chosen = flags.goal !== undefined;
  let frames: AsyncIterable<Frame>;
  let goal = flags.goal;
  let video: VideoSource | undefined;
  let name = 'the bundled sequences';
  if (inputGiven(source, flags)) {
    const input = await openInput(source, flags, signal, true);
    ({ frames, video, name } = input);
    goal ??= input.sequence?.goal;
  } else {
    const sequences = await readSequences(defaultSequencesDir());
    goal ??= sequences[0].goal;
    const played = playSequences(sequences, { loops: Infinity, onSequence: (seq) => !chosen && host?.setGoal(seq.goal) });
    frames = paced(played, flags.fps ?? sequences[0].fps);
  }
  try {
    if (goal === undefined) throw new AnchorSegError('ERR_INVALID_ARG', `Expected --goal for ${name} (only a sequence folder brings its own goal) but received none`);
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
        else process.stdout.write(`${modelLine(seg.manifest)}; backend ${seg.backend}\n${video ? `${describeVideo(video)}\n` : ''}open ${viewer!.url} in a browser; Ctrl-C stops\n`);
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
  } finally {
    await video?.close();
  }
}
