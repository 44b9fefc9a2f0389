import { AnchorSegError, invalidArg } from './errors.js';

/** Pixel encodings accepted everywhere (names as in sensor_msgs/image_encodings). */
export const ENCODINGS = {
  rgb8: 3,
  bgr8: 3,
  rgba8: 4,
  bgra8: 4,
  mono8: 1,
  yuyv: 2, // YUV 4:2:2, Y0 U Y1 V (ROS "yuv422_yuy2"), BT.601 limited range (docs/native.md)
  nv12: 1, // Y plane then interleaved UV plane at half resolution (bytes per pixel of the Y plane)
} as const;
export type Encoding = keyof typeof ENCODINGS;

/** ROS time (builtin_interfaces/Time), passed through untouched; ranges in STAMP_MAX. */
export interface Stamp {
  sec: number;
  nanosec: number;
}

/**
 * The largest stamp fields accepted (the smallest is 0 for both). `sec` fits ROS 2's int32
 * `builtin_interfaces/Time.sec` (and ROS 1's uint32) and is never negative, as rclcpp::Time
 * requires; `nanosec` is below one second, as ROS normalises it. Any stamp a frame carries can
 * so be published again on a ROS topic unchanged.
 */
export const STAMP_MAX = { sec: 2 ** 31 - 1, nanosec: 999_999_999 } as const;

/** A camera frame that mirrors sensor_msgs/Image, so ROS input needs no conversion copy. */
export interface Frame {
  width: number;
  height: number;
  encoding: Encoding;
  /** Bytes per row, >= width * bytes per pixel (rows may be padded). */
  step: number;
  /**
   * On an ArrayBuffer or a SharedArrayBuffer (read in place; other threads writing it meanwhile
   * give a mix of old and new pixels). segment() and the kernels copy an ArrayBuffer's bytes when
   * called: the buffer may be reused or transferred as soon as the call returns.
   */
  data: Uint8Array;
  stamp?: Stamp;
  frameId?: string;
}

/** Upper bound on a side: larger frames are almost always a corrupt header, not a camera. */
export const MAX_SIDE = 16384;

/** Bytes a frame of this shape needs: nv12 has a half-height chroma plane after the luma rows. */
export function frameByteLength(encoding: Encoding, height: number, step: number): number {
  return encoding === 'nv12' ? step * (height + Math.ceil(height / 2)) : step * height;
}

/** Validates a frame's header against its data; throws ERR_FRAME_INVALID naming the mismatch. */
export function validateFrame(frame: unknown, name = 'frame'): Frame {
  if (typeof frame !== 'object' || frame === null) throw invalidArg(name, 'an object like sensor_msgs/Image', frame, 'ERR_FRAME_INVALID');
  const f = frame as Record<string, unknown>;
  for (const key of ['width', 'height'] as const) {
    const v = f[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_SIDE) {
      throw invalidArg(`${name}.${key}`, `integer between 1 and ${MAX_SIDE}`, v, 'ERR_FRAME_INVALID');
    }
  }
  const enc = f.encoding;
  if (typeof enc !== 'string' || !Object.hasOwn(ENCODINGS, enc)) {
    throw invalidArg(`${name}.encoding`, `one of ${Object.keys(ENCODINGS).join(', ')}`, enc, 'ERR_FRAME_INVALID');
  }
  const encoding = enc as Encoding;
  const width = f.width as number;
  const height = f.height as number;
  if (encoding === 'yuyv' && width % 2 !== 0) throw invalidArg(`${name}.width`, 'an even width for yuyv', width, 'ERR_FRAME_INVALID');
  const minStep = width * ENCODINGS[encoding];
  const step = f.step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < minStep) {
    throw invalidArg(`${name}.step`, `integer >= ${minStep} (width ${width} x ${ENCODINGS[encoding]} bytes for ${encoding})`, step, 'ERR_FRAME_INVALID');
  }
  if (encoding === 'nv12' && step < width + (width % 2)) {
    // an nv12 chroma row holds ceil(width / 2) interleaved UV pairs
    throw new AnchorSegError('ERR_FRAME_INVALID', `Expected step >= ${width + 1} for an nv12 frame of odd width ${width} (its chroma rows hold ${(width + 1) / 2} UV pairs) but received ${step}`);
  }
  const data = f.data;
  if (!(data instanceof Uint8Array)) throw invalidArg(`${name}.data`, 'a Uint8Array or Buffer', data, 'ERR_FRAME_INVALID');
  const need = frameByteLength(encoding, height, step);
  if (data.byteLength < need) {
    throw new AnchorSegError('ERR_FRAME_INVALID', `Expected at least ${need} bytes of data for a ${width}x${height} ${encoding} frame with step ${step} but received ${data.byteLength}`);
  }
  if (f.frameId !== undefined && typeof f.frameId !== 'string') throw invalidArg(`${name}.frameId`, 'a string', f.frameId, 'ERR_FRAME_INVALID');
  if (f.stamp !== undefined) {
    const s = f.stamp as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw invalidArg(`${name}.stamp`, 'an object { sec, nanosec } of integers', f.stamp, 'ERR_FRAME_INVALID');
    for (const key of ['sec', 'nanosec'] as const) {
      const v = s[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > STAMP_MAX[key]) {
        throw invalidArg(`${name}.stamp.${key}`, `an integer between 0 and ${STAMP_MAX[key]}`, v, 'ERR_FRAME_INVALID');
      }
    }
  }
  return frame as Frame;
}

/**
 * validateFrame, and then exactly the frame's bytes, for transports that carry one frame per
 * message (ZeroMQ, ROS 2): extra bytes mean the sender's width, height or step are not its
 * data's, so the frame is refused rather than read wrong. `field` names the bytes in messages.
 */
export function validateExactFrame(frame: unknown, field: string, name = 'frame'): Frame {
  const f = validateFrame(frame, name);
  const need = frameByteLength(f.encoding, f.height, f.step);
  if (f.data.byteLength !== need) {
    throw new AnchorSegError('ERR_FRAME_INVALID', `Expected ${need} bytes of ${field} for a ${f.width}x${f.height} ${f.encoding} frame with step ${f.step} but received ${f.data.byteLength}`);
  }
  return f;
}
