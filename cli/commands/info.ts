import { stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Command } from 'commander';
import { listBackends, resolveBackend } from '../../sdk/backends/index.js';
import { defaultBundleDir, loadBundle } from '../../sdk/model/bundle.js';
import { kernelsImplementation } from '../../sdk/kernels/index.js';
import { vocabularyWords } from '../../sdk/model/tokenizer.js';
import { action, addBundleFlag, VERSION } from '../run.js';

interface Flags {
  bundle?: string;
  json?: boolean;
  vocab?: boolean;
}

export function register(program: Command): void {
  addBundleFlag(program.command('info').description('the bundle (verified), available backends and versions'))
    .option('--json', 'print the report as one JSON object on the last line')
    .option('--vocab', "list the words the bundle's tokenizer knows, one per line (in columns on a terminal; with --json: a JSON array)")
    .action(action(run));
}

async function run(flags: Flags): Promise<void> {
  const bundle = await loadBundle(flags.bundle ?? defaultBundleDir());
  if (flags.vocab) return printVocab(vocabularyWords(bundle), flags.json === true);
  const m = bundle.manifest;
  const backends = [];
  for (const { name, priority, backend } of listBackends()) {
    try {
      await resolveBackend(name);
      backends.push({ name, priority, available: true, ...backend.describe() });
    } catch (err) {
      backends.push({ name, priority, available: false, reason: (err as Error).message });
    }
  }
  const config = m.model.config as { architecture?: unknown } | undefined;
  const files = [...Object.values(m.engines).map((e) => e.file), ...m.files.map((f) => f.path)];
  const sizes = Object.fromEntries(await Promise.all(files.map(async (f) => [f, (await stat(path.join(bundle.dir, f))).size] as const)));
  const report = {
    bundle: {
      dir: bundle.dir,
      model: `${m.model.name} ${m.model.version}`,
      architecture: typeof config?.architecture === 'string' ? config.architecture : undefined,
      tokenizer: m.tokenizer.type,
      bytes: { total: Object.values(sizes).reduce((a, b) => a + b, 0), files: sizes },
      formatVersion: m.formatVersion,
      input: m.images.map((i) => `${i.input} ${i.width}x${i.height} ${i.channelOrder} ${i.dtype}`),
      grid: m.model.grid,
      latentTokens: m.model.latentTokens,
      vocabulary: bundle.vocab.length,
      maxTokens: m.tokenizer.maxTokens,
      engines: Object.fromEntries(Object.entries(m.engines).map(([k, e]) => [k, { file: e.file, sha256: e.sha256, inputs: e.inputs, outputs: e.outputs }])),
      metrics: m.metrics ?? {},
      provenance: m.provenance ?? {},
    },
    backends,
    kernels: kernelsImplementation,
    versions: { anchorseg: VERSION, node: process.version, sharp: sharp.versions.sharp ?? 'unknown', libvips: sharp.versions.vips },
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const b = report.bundle;
  const out = [
    `bundle   ${b.model} (format ${b.formatVersion}) at ${b.dir}, verified`,
    ...(b.architecture ? [`arch     ${b.architecture}`] : []),
    `input    ${b.input.join('; ')}; grid ${b.grid}; K ${b.latentTokens}; ${b.tokenizer} tokenizer, vocabulary ${b.vocabulary}, max ${b.maxTokens} tokens per goal`,
    `size     ${(b.bytes.total / 2 ** 20).toFixed(1)} MiB in ${files.length} files (${Object.entries(b.bytes.files)
      .map(([f, n]) => `${f} ${(n / 2 ** 20).toFixed(1)}`)
      .join(', ')})`,
    ...Object.entries(b.engines).map(([k, e]) => `engine   ${k.padEnd(8)} ${e.file} (${e.inputs.map((i) => i.name).join(', ')} -> ${e.outputs.map((o) => o.name).join(', ')})`),
    ...Object.entries(b.metrics).map(([split, s]) => `metrics  ${split}: gIoU ${s.gIoU} cIoU ${s.cIoU}${s.n ? ` n ${s.n}` : ''}`),
    ...backends.map(
      (x) =>
        `backend  ${x.name} (priority ${x.priority}): ${
          x.available
            ? Object.entries(x)
                .filter(([k]) => !['name', 'priority', 'available'].includes(k))
                .map(([, v]) => v)
                .join(', ')
            : `unavailable: ${x.reason}`
        }`,
    ),
    `kernels  ${report.kernels}`,
    `versions ${Object.entries(report.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** One word per line for pipes; columns, like ls, on a terminal. */
function printVocab(words: string[], json: boolean): void {
  const out = process.stdout;
  if (json) out.write(`${JSON.stringify(words)}\n`);
  else if (!out.isTTY) out.write(words.map((w) => `${w}\n`).join(''));
  else {
    const width = Math.max(...words.map((w) => w.length)) + 2;
    const cols = Math.max(1, Math.floor((out.columns || 80) / width));
    const rows = Math.ceil(words.length / cols);
    const lines = Array.from({ length: rows }, (_, r) =>
      Array.from({ length: cols }, (_, c) => words[c * rows + r] ?? '')
        .map((w) => w.padEnd(width))
        .join('')
        .trimEnd(),
    );
    out.write(`${lines.join('\n')}\n`);
  }
}
