// Streaming segmentation (docs/streaming.md): Segmenter.stream(), the stream host, the dual-rate policy, sources, sinks.
export { SegmentStream, type BankInfo, type StreamCounters, type StreamOptions, type StreamResult, type StreamStats } from './stream.js';
export { StreamHost, resultRecord, type HostHandlers, type HostSegmenter, type HostState, type ResultListener, type ResultRecord, type StreamHostOptions, type StreamTap } from './host.js';
export type { DropMode, FrameSource } from './intake.js';
export { ADAPTIVE_DEFAULTS, BANK_REASONS, DEFAULT_REASON, peakContrast, type AdaptiveOptions, type BankReason, type ReasonOptions } from './policy.js';
export { defaultSequencesDir, imageFolder, paced, playSequences, readSequence, readSequences, type ImageFolderOptions, type PlaylistOptions, type Sequence, type SequenceFrame } from './sources.js';
export { StreamWriter, type StreamWriterOptions, type WrittenFiles } from './sinks.js';
export { GifWriter } from './gif.js';
export { gstreamerSource, videoSource, type GstreamerSourceOptions, type SourceOptions, type VideoSourceOptions } from './video.js';
export type { VideoSource, RestartEvent, RestartOptions, VideoSourceCounters } from './video-process.js';
