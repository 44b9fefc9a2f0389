// Streaming segmentation (docs/streaming.md): Segmenter.stream(), the dual-rate policy, sources, sinks.
export { SegmentStream, type BankInfo, type StreamOptions, type StreamResult, type StreamStats } from './stream.js';
export { type DropMode, type FrameSource } from './intake.js';
export { ADAPTIVE_DEFAULTS, BANK_REASONS, DEFAULT_REASON, peakContrast, type AdaptiveOptions, type BankReason, type ReasonOptions } from './policy.js';
export { defaultSequencesDir, imageFolder, paced, playSequences, readSequence, readSequences, type PlaylistOptions, type Sequence, type SequenceFrame } from './sources.js';
export { StreamWriter, resultRecord, type StreamWriterOptions, type WrittenFiles } from './sinks.js';
export { GifWriter } from './gif.js';
