// Public API of the anchorseg package.
export { DEFAULT_MAX_QUEUE, Segmenter, type CallOptions, type ImageState, type OpenOptions, type QueryBank } from './segmenter.js';
export type { NotFoundReason, SegmentResult, Timings } from './model/result.js';
export type { Goal } from './model/tokenizer.js';
export { type Frame, type Encoding, type Stamp, ENCODINGS, STAMP_MAX, validateFrame } from './base/frame.js';
export { loadImage } from './base/image.js';
export { encodeMaskPng, encodeOverlayPng, toRle } from './model/encoders.js';
export { rleDecode, rleEncode, type MarkStyle, type OverlayStyle, type Rle } from './kernels/index.js';
export { AnchorSegError, type ErrorCode } from './base/errors.js';
export { defaultBundleDir, loadBundle, type Bundle } from './model/bundle.js';
export type { Manifest } from './model/manifest.js';
export {
  listBackends,
  registerBackend,
  resolveBackend,
  type Backend,
  type ChainOptions,
  type ChainResult,
  type Engine,
  type EngineOptions,
  type EngineSet,
  type RunOptions,
} from './backends/index.js';
export type { DType, Tensor, TensorInfo } from './backends/tensor.js';
export { intersectionUnion, report, scores, type IntersectionUnion, type Report, type Scores } from './data/metrics.js';
export { groundTruth, rasterizePolygons, readReasonSeg, type ReasonSegSample, type Shape } from './data/reasonseg.js';
export { defaultDataDir, evaluate, type EvaluateOptions } from './evaluate.js';
export * from './stream/index.js';
