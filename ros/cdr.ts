/**
 * sensor_msgs/Image in CDR (the bytes DDS carries), read and written here instead of by
 * rclnodejs' JavaScript (de)serialization: an image's data is then a view of the received
 * buffer, not a copy into a JS array, and a mask goes out without a field-by-field walk
 * (rclnodejs issues 916 and 960: image subscriptions falling behind camera rate).
 */
import { AnchorSegError } from '../sdk/base/errors.js';
import type { RosHeader, RosImage } from './types.js';

/** RTPS encapsulation identifiers (plain CDR, big or little endian). */
const CDR_BE = 0x0000;
const CDR_LE = 0x0001;
const ENCAPSULATION = 4;

function malformed(what: string, need: number, have: number): AnchorSegError {
  return new AnchorSegError('ERR_FRAME_INVALID', `Expected a CDR-encoded sensor_msgs/Image with ${need} bytes for ${what} but received ${have}`);
}

/** A received image whose `data` is a view of the CDR buffer (valid as long as that buffer is). */
export interface DecodedImage extends RosImage {
  data: Uint8Array;
}

/** Decodes a serialized sensor_msgs/Image; throws ERR_FRAME_INVALID naming the field that does not fit. */
export function decodeImage(buf: Uint8Array): DecodedImage {
  if (buf.byteLength < ENCAPSULATION) throw malformed('the encapsulation header', ENCAPSULATION, buf.byteLength);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const kind = view.getUint16(0, false);
  if (kind !== CDR_LE && kind !== CDR_BE) {
    throw new AnchorSegError('ERR_FRAME_INVALID', `Expected CDR encapsulation 0x0000 or 0x0001 for a sensor_msgs/Image but received 0x${kind.toString(16).padStart(4, '0')}`);
  }
  const le = kind === CDR_LE;
  let pos = 0; // offsets align relative to the payload, after the encapsulation header
  const need = (n: number, what: string) => {
    if (ENCAPSULATION + pos + n > buf.byteLength) throw malformed(what, ENCAPSULATION + pos + n, buf.byteLength);
  };
  const u32 = (what: string) => {
    pos = (pos + 3) & ~3;
    need(4, what);
    const v = view.getUint32(ENCAPSULATION + pos, le);
    pos += 4;
    return v;
  };
  const str = (what: string) => {
    const n = u32(`${what} length`);
    need(n, what);
    // n counts the terminating NUL.
    const s = Buffer.from(buf.buffer, buf.byteOffset + ENCAPSULATION + pos, Math.max(0, n - 1)).toString('utf8');
    pos += n;
    return s;
  };
  const sec = u32('header.stamp.sec') | 0;
  const nanosec = u32('header.stamp.nanosec');
  const frameId = str('header.frame_id');
  const height = u32('height');
  const width = u32('width');
  const encoding = str('encoding');
  need(1, 'is_bigendian');
  const isBigendian = buf[ENCAPSULATION + pos];
  pos += 1;
  const step = u32('step');
  const n = u32('data length');
  need(n, 'data');
  const data = buf.subarray(ENCAPSULATION + pos, ENCAPSULATION + pos + n);
  return { header: { stamp: { sec, nanosec }, frame_id: frameId }, height, width, encoding, is_bigendian: isBigendian, step, data };
}

/** Encodes a sensor_msgs/Image as little-endian CDR, ready for `publisher.publish(buffer)`. */
export function encodeImage(header: RosHeader, width: number, height: number, encoding: string, step: number, data: Uint8Array): Buffer {
  const frameId = Buffer.from(header.frame_id, 'utf8');
  const enc = Buffer.from(encoding, 'ascii');
  // Run the layout twice: once to size the buffer, once to write it.
  const layout = (out: Buffer | undefined): number => {
    let pos = 0;
    const u32 = (v: number) => {
      pos = (pos + 3) & ~3;
      out?.writeUInt32LE(v >>> 0, ENCAPSULATION + pos);
      pos += 4;
    };
    const bytes = (b: Uint8Array) => {
      out?.set(b, ENCAPSULATION + pos);
      pos += b.byteLength;
    };
    const str = (b: Buffer) => {
      u32(b.length + 1);
      bytes(b);
      pos += 1; // the terminating NUL (the buffer is zero-filled)
    };
    u32(header.stamp.sec);
    u32(header.stamp.nanosec);
    str(frameId);
    u32(height);
    u32(width);
    str(enc);
    pos += 1; // is_bigendian = 0: 8-bit encodings only
    u32(step);
    u32(data.byteLength);
    bytes(data);
    return ENCAPSULATION + pos;
  };
  const out = Buffer.alloc(layout(undefined));
  out.writeUInt16BE(CDR_LE, 0);
  layout(out);
  return out;
}
