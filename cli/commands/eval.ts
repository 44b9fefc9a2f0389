import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { checkDefaultData, defaultDataDir, evaluate } from '../../sdk/evaluate.js';
import type { Scores } from '../../sdk/data/metrics.js';
import { action, addEngineFlags, interruptSignal, openSegmenter, positiveInt, type EngineFlags } from '../run.js';

interface Flags extends EngineFlags {
  data?: string;
  json?: boolean;
  limit?: number;
}

export function register(program: Command): void {
  addEngineFlags(
    program
      .command('eval')
      .description('gIoU / cIoU (LISA definitions) of a bundle on a ReasonSeg-format folder')
      .option('--data <dir>', 'ReasonSeg-format folder (default: the committed ReasonSeg-Synth test split)')
      .option('--limit <n>', 'only the first n samples', positiveInt)
      .option('--json', 'print the result as one JSON object on the last line'),
  ).action(action(run));
}

const fmt = (s: Scores) => (s.n === 0 ? 'n 0' : `gIoU ${s.gIoU.toFixed(4)}  cIoU ${s.cIoU.toFixed(4)}  n ${s.n}`);

async function run(flags: Flags): Promise<void> {
  const signal = interruptSignal();
  // Refused before the model loads when run from the installed package without --data.
  const data = checkDefaultData(flags.data ?? defaultDataDir());
  const seg = await openSegmenter(flags, signal);
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'eval [{bar}] {value}/{total} {eta_formatted}', hideCursor: true }, cliProgress.Presets.legacy);
  try {
    const r = await evaluate(seg, data, {
      signal,
      limit: flags.limit,
      onProgress: (done, total) => (done === 0 ? bar.start(total, 0) : bar.update(done)),
    });
    bar.stop();
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ gIoU: r.gIoU, cIoU: r.cIoU, n: r.n, short: r.short, long: r.long })}\n`);
    } else {
      process.stdout.write(`${seg.manifest.model.name} ${seg.manifest.model.version} on ${data}\n`);
      process.stdout.write(`all:   ${fmt(r)}\nshort: ${fmt(r.short)}\nlong:  ${fmt(r.long)}\n`);
    }
  } finally {
    bar.stop();
    await seg.close();
  }
}
