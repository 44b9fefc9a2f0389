// Runs a set of ONNX models on one thread: the engine side of sdk/backends/onnx.ts.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { DType, Tensor, TensorData, TensorInfo } from './tensor.js';
import type { FromWorker, ToWorker, WorkerInit } from './onnx.js';
import { sessionOptions } from './onnx-session.js';

const port = parentPort!;
const init = workerData as WorkerInit;

const info = (meta: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] =>
  meta.map((m) => ({ name: m.name, dtype: (m.isTensor ? m.type : 'non-tensor') as DType, shape: m.isTensor ? [...m.shape] : [] }));

// The engine side may cancel a load (its open() was aborted). A session being created cannot be
// interrupted (and this thread must not be terminated inside onnxruntime), so the load stops
// before the next one, releases what it made and says so; the engine side then terminates it.
let cancelled = false;
const onCancel = (msg: ToWorker) => {
  if (msg.type === 'cancel') cancelled = true;
};
port.on('message', onCancel);

async function stop(sessions: ort.InferenceSession[]): Promise<undefined> {
  await Promise.allSettled(sessions.map((s) => s.release()));
  port.off('message', onCancel);
  port.postMessage({ type: 'cancelled' } satisfies FromWorker);
  return undefined;
}

async function load(): Promise<ort.InferenceSession[] | undefined> {
  const sessions: ort.InferenceSession[] = [];
  for (const file of init.files) {
    if (cancelled) return stop(sessions);
    try {
      sessions.push(await ort.InferenceSession.create(file, sessionOptions(init.threads)));
    } catch (err) {
      // The engine side terminates this worker when it reads the error.
      port.off('message', onCancel);
      port.postMessage({ type: 'load-error', file, message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
      return undefined;
    }
  }
  if (cancelled) return stop(sessions);
  port.postMessage({ type: 'ready', engines: sessions.map((s) => ({ inputs: info(s.inputMetadata), outputs: info(s.outputMetadata) })) } satisfies FromWorker);
  return sessions;
}

const sessions = await load();
if (sessions) serve(sessions);

function serve(sessions: ort.InferenceSession[]): void {
  port.on('message', async (msg: ToWorker) => {
    if (msg.type !== 'run') return; // a late 'cancel' (the engine side terminates this worker next)
    let current = msg.order[0];
    try {
      // A chain feeds each engine by input name from the request and the outputs before it.
      const pool = new Map<string, ort.Tensor>(Object.entries(msg.feeds).map(([name, t]) => [name, new ort.Tensor(t.dtype, t.data, t.dims)]));
      const outputs: Record<string, Tensor>[] = [];
      const ms: number[] = [];
      const transfer = new Set<ArrayBuffer>();
      const keep = msg.keep && new Set(msg.keep);
      for (const index of msg.order) {
        current = index;
        const session = sessions[index];
        const feeds = Object.fromEntries(session.inputNames.filter((n) => pool.has(n)).map((n) => [n, pool.get(n)!]));
        const t0 = performance.now();
        const results = await session.run(feeds);
        ms.push(performance.now() - t0);
        const step: Record<string, Tensor> = {};
        for (const [name, value] of Object.entries(results)) {
          pool.set(name, value);
          if (keep && !keep.has(name)) continue;
          let data = value.data as TensorData;
          // Hand the buffer over when the output owns all of it; otherwise copy just this output.
          if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || transfer.has(data.buffer as ArrayBuffer)) data = data.slice();
          transfer.add(data.buffer as ArrayBuffer);
          step[name] = { dtype: value.type as DType, dims: [...value.dims], data };
        }
        outputs.push(step);
      }
      port.postMessage({ type: 'result', id: msg.id, outputs, ms } satisfies FromWorker, [...transfer]);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      port.postMessage({ type: 'run-error', id: msg.id, message: `Engine ${init.files[current] ?? current}: ${reason}` } satisfies FromWorker);
    }
  });
}
