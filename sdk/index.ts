// Public API of the anchorseg package.
export { Segmenter, type CallOptions, type ImageState, type OpenOptions, type QueryBank } from './segmenter.js';
export type { NotFoundReason, SegmentResult, Timings } from './result.js';
export type { Goal } from './tokenizer.js';
export { type Frame, type Encoding, type Stamp, ENCODINGS, validateFrame } from './frame.js';
export { loadImage } from './image.js';
export { encodeMaskPng, encodeOverlayPng, toRle } from './encoders.js';
export { rleDecode, rleEncode, type Rle } from './kernels/index.js';
export { AnchorSegError, type ErrorCode } from './errors.js';
export { defaultBundleDir, loadBundle, type Bundle } from './bundle.js';
export type { Manifest } from './manifest.js';
export { listBackends, registerBackend, resolveBackend, type Backend, type ChainOptions, type ChainResult, type Engine, type EngineOptions, type EngineSet, type RunOptions } from './backends/index.js';
export type { DType, Tensor, TensorInfo } from './tensor.js';
export { intersectionUnion, report, scores, type IntersectionUnion, type Report, type Scores } from './metrics.js';
export { groundTruth, rasterizePolygons, readReasonSeg, type ReasonSegSample, type Shape } from './reasonseg.js';
export { defaultDataDir, evaluate, type EvaluateOptions } from './evaluate.js';
export * from './stream/index.js';
