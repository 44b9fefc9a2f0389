import type { InferenceSession } from 'onnxruntime-node';

/** Session options of every onnx engine; the benchmark's raw baseline uses the same ones. */
export function sessionOptions(threads: number | undefined): InferenceSession.SessionOptions {
  return {
    ...(threads !== undefined && { intraOpNumThreads: threads }),
    // One engine = one model run at a time: no inter-op parallelism to pay for.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // ONNX Runtime's operator threads spin while waiting for work by default. On a small CPU shared
    // with the camera, transport and other nodes that burns the cores they need: on the 2-core
    // machine here a decoder run cost 8.8 ms of CPU with spinning and 5.4 ms without, same latency
    // (a one-off measurement; `npm run bench -- zmq` prints CPU ms per result for the whole pipeline).
    // Its fused SkipLayerNormalization kernel is about 3x slower than the Add and LayerNormalization it
    // replaces on the decoder's 1936 x 64 image rows: with the fusion off that engine ran 17-21 %
    // faster, outputs equal to 1e-5 (a one-off measurement of bundles 0.4.7 and 0.4.8 here).
    extra: {
      session: { intra_op: { allow_spinning: '0' } },
      optimization: { disable_specified_optimizers: 'SkipLayerNormFusion' },
    },
  };
}
