// Runs one ONNX model on its own thread: the engine side of sdk/backends/onnx.ts.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { DType, Tensor, TensorData, TensorInfo } from '../tensor.js';
import type { FromWorker, ToWorker, WorkerInit } from './onnx.js';
import { sessionOptions } from './onnx-session.js';

const port = parentPort!;
const init = workerData as WorkerInit;

const info = (meta: readonly ort.InferenceSession.ValueMetadata[]): TensorInfo[] =>
  meta.map((m) => ({ name: m.name, dtype: (m.isTensor ? m.type : 'non-tensor') as DType, shape: m.isTensor ? [...m.shape] : [] }));

async function load(): Promise<ort.InferenceSession | undefined> {
  try {
    const session = await ort.InferenceSession.create(init.file, sessionOptions(init.threads));
    port.postMessage({ type: 'ready', inputs: info(session.inputMetadata), outputs: info(session.outputMetadata) } satisfies FromWorker);
    return session;
  } catch (err) {
    // The engine side terminates this worker when it reads the error.
    port.postMessage({ type: 'load-error', message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
    return undefined;
  }
}

const session = await load();
if (session) serve(session);

function serve(session: ort.InferenceSession): void {
  port.on('message', async (msg: ToWorker) => {
    try {
      const feeds = Object.fromEntries(Object.entries(msg.feeds).map(([name, t]) => [name, new ort.Tensor(t.dtype, t.data, t.dims)]));
      const results = await session.run(feeds);
      const outputs: Record<string, Tensor> = {};
      const transfer = new Set<ArrayBuffer>();
      for (const [name, value] of Object.entries(results)) {
        let data = value.data as TensorData;
        // Hand the buffer over when the output owns all of it; otherwise copy just this output.
        if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || transfer.has(data.buffer as ArrayBuffer)) data = data.slice();
        transfer.add(data.buffer as ArrayBuffer);
        outputs[name] = { dtype: value.type as DType, dims: [...value.dims], data };
      }
      port.postMessage({ type: 'result', id: msg.id, outputs } satisfies FromWorker, [...transfer]);
    } catch (err) {
      port.postMessage({ type: 'run-error', id: msg.id, message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
    }
  });
}
