import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_BUILD_OPTIONS, ensurePlan, requireProvider } from '../../sdk/backends/tensorrt.js';
import { checkBackends } from '../tensorrt-check.js';
import { defaultBundleDir, loadBundle } from '../../sdk/model/bundle.js';
import { ENGINE_NAMES } from '../../sdk/model/manifest.js';
import { action, addBundleFlag, interruptSignal, positiveInt } from '../run.js';

interface Flags {
  bundle?: string;
  fp16?: boolean;
  workspace: number;
  dla?: number;
  force?: boolean;
  check?: boolean;
  frames: number;
  json?: boolean;
}

export function register(program: Command): void {
  addBundleFlag(program.command('build-engine').description("build and cache TensorRT plans for the bundle's engines on this machine (Jetson / NVIDIA GPU; docs/tensorrt.md)"))
    .option('--fp16', 'allow FP16 kernels (I/O stays FP32); verify with --check')
    .option('--workspace <MiB>', 'builder workspace limit', positiveInt, DEFAULT_BUILD_OPTIONS.workspaceBytes / 2 ** 20)
    .option('--dla <core>', 'build for this DLA core with GPU fallback (AGX Orin, Orin NX)', dlaCore)
    .option('--force', 'rebuild even when a cached plan matches')
    .option('--check', "then compare TensorRT's results with ONNX Runtime's on ReasonSeg-Synth test frames")
    .option('--frames <n>', 'with --check: frames to compare', positiveInt, 8)
    .option('--json', 'print the report as one JSON object on the last line')
    .action(action(run));
}

function dlaCore(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`Expected an integer >= 0 but received ${JSON.stringify(value)}.`);
  return n;
}

async function run(flags: Flags): Promise<void> {
  const signal = interruptSignal();
  const provider = requireProvider(); // ERR_BACKEND_UNAVAILABLE, one line, where TensorRT is absent
  const device = await provider.providerInfo();
  const bundle = await loadBundle(flags.bundle ?? defaultBundleDir(), { signal });
  const options = {
    ...DEFAULT_BUILD_OPTIONS,
    fp16: flags.fp16 === true,
    workspaceBytes: flags.workspace * 2 ** 20,
    dlaCore: flags.dla ?? -1,
    dynamicMax: bundle.manifest.tokenizer.maxTokens,
  };
  process.stderr.write(`TensorRT ${device.tensorrt}, CUDA ${device.cudaRuntime}, ${device.gpu} (compute ${device.computeCapability})\n`);
  const plans: Record<string, { file: string; built: boolean; seconds: number }> = {};
  for (const name of ENGINE_NAMES) {
    const t0 = performance.now();
    const r = await ensurePlan(provider, device, bundle.engines[name], {
      options,
      force: flags.force,
      signal,
      onProgress: (phase, step, steps) => process.stderr.write(`\r${name}: ${phase} ${step}${steps > 0 ? `/${steps}` : ''}`.padEnd(78)),
    });
    plans[name] = { file: r.file, built: r.built, seconds: (performance.now() - t0) / 1000 };
    process.stderr.write(`\r${name}: ${r.built ? `built in ${plans[name].seconds.toFixed(1)} s` : 'cached'} -> ${r.file}`.padEnd(78) + '\n');
  }
  let check: Awaited<ReturnType<typeof checkBackends>> | undefined;
  if (flags.check) {
    check = await checkBackends({ bundleDir: bundle.dir, frames: flags.frames, signal });
    for (const r of check.rows) {
      process.stdout.write(`${r.id}  IoU ${r.iou.toFixed(3)}  score diff ${r.scoreDiff.toFixed(4)}  token map max diff ${r.tokenMapMaxDiff.toExponential(2)}  "${r.goal}"\n`);
    }
    const v = check.verdict;
    process.stdout.write(v.pass ? `PASS: TensorRT agrees with ONNX Runtime (mean mask IoU ${v.meanIou.toFixed(3)})\n` : `FAIL: ${v.problems.join('; ')}\n`);
    if (!v.pass) process.exitCode = 1;
  }
  if (flags.json) process.stdout.write(`${JSON.stringify({ device, options, plans, check })}\n`);
}
