/** sensor_msgs/Image <-> SDK frames and results, and the node's output messages. */
import { AnchorSegError, describe } from '../sdk/base/errors.js';
import { validateExactFrame, type Encoding, type Frame } from '../sdk/base/frame.js';
import { overlayResult } from '../sdk/kernels/index.js';
import type { ResultRecord } from '../sdk/stream/host.js';
import type { StreamResult } from '../sdk/stream/stream.js';
import { encodeImage } from './cdr.js';
import type { RosHeader, RosImage } from './types.js';

/** ROS image encodings (sensor_msgs/image_encodings.hpp names) the node reads, and their SDK names. */
export const ROS_ENCODINGS: Readonly<Record<string, Encoding>> = {
  rgb8: 'rgb8',
  bgr8: 'bgr8',
  rgba8: 'rgba8',
  bgra8: 'bgra8',
  mono8: 'mono8',
  yuv422_yuy2: 'yuyv',
};

/**
 * A received sensor_msgs/Image as an SDK frame, sharing its bytes. Throws ERR_FRAME_INVALID
 * naming what is wrong (unknown encoding, step too small, data not exactly height x step bytes,
 * as the ZeroMQ front end refuses it).
 */
export function imageToFrame(msg: RosImage): Frame {
  if (typeof msg !== 'object' || msg === null) throw new AnchorSegError('ERR_FRAME_INVALID', `Expected a sensor_msgs/Image but received ${describe(msg)}`);
  const encoding = Object.hasOwn(ROS_ENCODINGS, msg.encoding) ? ROS_ENCODINGS[msg.encoding] : undefined;
  if (!encoding) {
    throw new AnchorSegError('ERR_FRAME_INVALID', `Expected image encoding one of ${Object.keys(ROS_ENCODINGS).join(', ')} but received ${describe(msg.encoding)}`);
  }
  const data = msg.data instanceof Uint8Array ? msg.data : Uint8Array.from(msg.data ?? []);
  return validateExactFrame(
    {
      width: msg.width,
      height: msg.height,
      encoding,
      step: msg.step,
      data,
      stamp: { sec: msg.header.stamp.sec, nanosec: msg.header.stamp.nanosec },
      frameId: msg.header.frame_id,
    },
    'data',
  );
}

/** The frame's header for outputs: stamp and frame_id passed through unchanged. */
export function headerOf(frame: Frame): RosHeader {
  return { stamp: frame.stamp ?? { sec: 0, nanosec: 0 }, frame_id: frame.frameId ?? '' };
}

/** The result as published when it scores under the node's score_threshold: an empty mask, not found. */
export function blankResult(r: StreamResult): StreamResult {
  return { ...r, mask: new Uint8Array(r.width * r.height), found: false, notFoundReason: r.notFoundReason ?? 'low-score', area: 0, bbox: null };
}

/** The mask as mono8 CDR (255 = goal pixels) with the input image's header. */
export function maskCdr(r: StreamResult): Buffer {
  return encodeImage(headerOf(r.frame), r.width, r.height, 'mono8', r.width, r.mask);
}

/** The input image with the mask lightly filled, its outline, bbox and anchor (as the CLI's overlays), as rgb8 CDR with the input image's header. */
export function overlayCdr(r: StreamResult): Buffer {
  return encodeImage(headerOf(r.frame), r.width, r.height, 'rgb8', r.width * 3, overlayResult(r.frame, r));
}

/** anchorseg_msgs/msg/Segmentation (ros/anchorseg_msgs/msg/Segmentation.msg documents each field). */
export interface SegmentationMessage {
  header: RosHeader;
  goal: string;
  score: number;
  found: boolean;
  not_found_reason: string;
  area: number;
  bbox: number[];
  anchor_x: number;
  anchor_y: number;
  height: number;
  width: number;
  rle_counts: string;
  bank_id: number;
  bank_age_frames: number;
  bank_age_ms: number;
  bank_reason: string;
  latency_ms: number;
  dropped: number;
}

/** The result record (the JSON metadata format) as the typed message, field by field. */
export function segmentationMessage(rec: ResultRecord): SegmentationMessage {
  return {
    header: { stamp: rec.stamp ?? { sec: 0, nanosec: 0 }, frame_id: rec.frameId ?? '' },
    goal: rec.goal,
    score: rec.score,
    found: rec.found,
    not_found_reason: rec.notFoundReason ?? '',
    area: rec.area,
    bbox: rec.bbox ? [...rec.bbox] : [0, 0, 0, 0],
    anchor_x: rec.anchor.x,
    anchor_y: rec.anchor.y,
    height: rec.height,
    width: rec.width,
    rle_counts: rec.rle.counts,
    bank_id: rec.bank.id,
    bank_age_frames: rec.bank.ageFrames,
    bank_age_ms: rec.bank.ageMs,
    bank_reason: rec.bank.reason,
    latency_ms: rec.latencyMs,
    dropped: rec.dropped,
  };
}
