import type { InferenceSession } from 'onnxruntime-node';

/** Session options of every onnx engine; the benchmark's raw baseline uses the same ones. */
export function sessionOptions(threads: number | undefined): InferenceSession.SessionOptions {
  return {
    ...(threads !== undefined && { intraOpNumThreads: threads }),
    // One engine = one model run at a time: no inter-op parallelism to pay for.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}
