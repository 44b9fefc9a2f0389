import path from 'node:path';
import type { Command } from 'commander';
import { kernelsImplementation } from '../../sdk/kernels/index.js';
import { intersectionUnion, scores } from '../../sdk/data/metrics.js';
import { groundTruth } from '../../sdk/data/reasonseg.js';
import { LiveView, modelLine } from '../live-view.js';
import { StreamHost } from '../../sdk/stream/host.js';
import { StreamWriter } from '../../sdk/stream/sinks.js';
import { defaultSequencesDir, paced, playSequences, readSequences, type Sequence, type SequenceFrame } from '../../sdk/stream/sources.js';
import { addReasonFlags, reasonFromFlags } from '../param-flags.js';
import { action, addEngineFlags, interruptSignal, openSegmenter, positiveInt, type EngineFlags } from '../run.js';

interface Flags extends EngineFlags {
  frames?: number;
  out: string;
  sequences?: string;
  pace: boolean;
  gif: boolean;
}

export function register(program: Command): void {
  addReasonFlags(
    addEngineFlags(
      program
        .command('demo')
        .description('the embedded model on the bundled moving camera sequences, goals changing along the way: live view, overlay frames and an animated preview (npm start)')
        .option('-f, --frames <n>', 'stop after n frames (default: every sequence once)', positiveInt)
        .option('-o, --out <dir>', 'output folder (overlays/, masks/, results.jsonl, preview.gif)', path.join('out', 'demo'))
        .option('--sequences <dir>', 'folder of ReasonSeg-Synth sequences (default: the bundled ones)')
        .option('--no-pace', 'run every frame as fast as the model goes, instead of at camera rate with latest-frame-wins')
        .option('--no-gif', 'skip the animated preview'),
    ),
  ).action(action(run));
}

async function run(flags: Flags): Promise<void> {
  const signal = interruptSignal();
  const sequences = await readSequences(flags.sequences ?? defaultSequencesDir());
  const order: { seq: Sequence; frame: SequenceFrame }[] = sequences.flatMap((seq) => seq.frames.map((frame) => ({ seq, frame })));
  const total = flags.frames ?? order.length;
  const fps = sequences[0].fps;
  const reason = reasonFromFlags(flags as unknown as Record<string, unknown>);
  const rules = [reason.every && `every ${reason.every} frames`, reason.afterMs && `every ${reason.afterMs} ms`, reason.adaptive && 'adaptively'].filter(Boolean);
  const seg = await openSegmenter(flags, signal);
  try {
    const out = process.stdout;
    out.write(`${modelLine(seg.manifest)}; backend ${seg.backend}, kernels ${kernelsImplementation}\n`);
    out.write(
      `${sequences.length} sequences (${order.length} frames, ${sequences[0].width}x${sequences[0].height}), ${total} frames, ` +
        `${flags.pace ? `played like a ${fps} fps camera, latest frame wins` : 'every frame, as fast as it goes'}; ` +
        `reasoner on goal changes${rules.length ? `, then ${rules.join(' and ')}` : ' only'}\n\n`,
    );
    let host: StreamHost | undefined;
    // Each sequence's goal is set as its first frame is read: the goal changes exactly there.
    const frames = playSequences(sequences, { loops: Infinity, frames: total, onSequence: (seq) => host!.setGoal(seq.goal) });
    host = new StreamHost({
      goal: sequences[0].goal, // the host reads its source only while it has a goal
      source: flags.pace ? paced(frames, fps) : frames,
      drop: flags.pace ? 'latest' : 'none',
      reason,
      signal,
    });
    // Every second overlay in the preview, played at half rate: real time when nothing drops.
    const writer = await StreamWriter.open(flags.out, flags.gif ? { gif: { every: 2, maxFrames: 300, fps: fps / 2 } } : {});
    const view = new LiveView(out, total);
    let sum = 0;
    let n = 0;
    try {
      await host.run(seg, {
        onResult: async (r) => {
          const { seq, frame } = order[r.frameIndex % order.length];
          const iou = scores([intersectionUnion(r.mask, groundTruth(frame.shapes, r.width, r.height))]).gIoU!;
          sum += iou;
          n++;
          await writer.write(r);
          view.update(r, { ...host!.counters, fps: host!.fps }, { label: seq.name, iou, gIoU: sum / n });
        },
      });
    } finally {
      await host.close();
    }
    const files = await writer.close();
    const s = host.counters;
    const ran = Object.entries(s.banksByReason)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${v} ${k}`);
    view.finish(
      [
        '',
        `${signal.aborted ? 'interrupted after' : 'done:'} ${s.results} results from ${s.received} frames (${s.dropped} dropped), ${host.fps.toFixed(1)} fps; ` +
          `reasoner ran ${ran.join(', ') || 'never'}; mean IoU vs ground truth ${n ? (sum / n).toFixed(3) : '-'}`,
        `overlays: ${path.join(files.dir, 'overlays')}/   results: ${files.json}`,
        files.gif ? `preview:  ${files.gif}  (open it in a browser or image viewer)` : '',
      ].filter(Boolean),
    );
  } finally {
    await seg.close();
  }
}
