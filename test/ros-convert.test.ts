// Message conversion and parameter checks of the ROS node, without a ROS graph (they run
// everywhere); the same paths against rclpy's serializer are in ros-node.test.ts.
import { describe, expect, it } from 'vitest';
import { decodeImage, encodeImage } from '../ros/cdr.js';
import { imageToFrame } from '../ros/convert.js';
import { checkParam, reasonOptions, DEFAULT_PARAMS, ROS_PARAMETER_TYPES, rosTypeMismatch } from '../ros/params.js';

const header = { stamp: { sec: 1700000000, nanosec: 123456789 }, frame_id: 'camera_optical_frame' };

// Bytes rclpy's serialize_message() produced for a 3x2 mono8 image (frame_id "cam_xyz").
const RCLPY_MONO8 = '000100007b00000055f806000800000063616d5f78797a000200000003000000060000006d6f6e6f380000000300000006000000010203040506';

function expectFrameError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect((err as { code: string }).code).toBe('ERR_FRAME_INVALID');
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected ERR_FRAME_INVALID');
}

describe('sensor_msgs/Image CDR', () => {
  it('reads what rclpy writes and writes the same bytes', () => {
    const bytes = Buffer.from(RCLPY_MONO8, 'hex');
    const img = decodeImage(bytes);
    expect({ ...img, data: [...img.data] }).toEqual({
      header: { stamp: { sec: 123, nanosec: 456789 }, frame_id: 'cam_xyz' },
      height: 2,
      width: 3,
      encoding: 'mono8',
      is_bigendian: 0,
      step: 3,
      data: [1, 2, 3, 4, 5, 6],
    });
    expect(encodeImage(img.header, 3, 2, 'mono8', 3, img.data).toString('hex')).toBe(RCLPY_MONO8);
  });

  it('round-trips a 640x480 rgb8 image with its data as a view, not a copy', () => {
    const data = Uint8Array.from({ length: 640 * 480 * 3 }, (_, i) => (i * 31) % 256);
    const buf = encodeImage(header, 640, 480, 'rgb8', 1920, data);
    const img = decodeImage(buf);
    expect(img.header).toEqual(header);
    expect([img.width, img.height, img.encoding, img.step]).toEqual([640, 480, 'rgb8', 1920]);
    expect(Buffer.from(img.data).equals(Buffer.from(data))).toBe(true);
    expect(img.data.buffer).toBe(buf.buffer);
  });

  it('refuses truncated or foreign bytes with ERR_FRAME_INVALID naming the field', () => {
    const full = encodeImage(header, 4, 2, 'mono8', 4, new Uint8Array(8));
    expectFrameError(() => decodeImage(full.subarray(0, 2)), /4 bytes for the encapsulation header but received 2/);
    expectFrameError(() => decodeImage(full.subarray(0, 20)), /for header\.frame_id but received 20/);
    expectFrameError(() => decodeImage(full.subarray(0, full.length - 3)), /for data but received/);
    const foreign = Buffer.from(full);
    foreign.writeUInt16BE(0x0003, 0);
    expectFrameError(() => decodeImage(foreign), /encapsulation 0x0000 or 0x0001 .* received 0x0003/);
  });
});

describe('imageToFrame', () => {
  const image = (over: Record<string, unknown>) => ({ header, height: 2, width: 2, encoding: 'rgb8', is_bigendian: 0, step: 6, data: new Uint8Array(12), ...over });

  it('maps ROS encodings and passes the header through', () => {
    expect(imageToFrame(image({}))).toMatchObject({ width: 2, height: 2, encoding: 'rgb8', step: 6, stamp: header.stamp, frameId: header.frame_id });
    expect(imageToFrame(image({ encoding: 'yuv422_yuy2', step: 4, data: new Uint8Array(8) })).encoding).toBe('yuyv');
  });

  it('refuses unknown encodings, short steps and short data, saying what was expected', () => {
    expectFrameError(() => imageToFrame(image({ encoding: '16UC1' })), /Expected image encoding one of rgb8, bgr8, rgba8, bgra8, mono8, yuv422_yuy2 but received "16UC1"/);
    expectFrameError(() => imageToFrame(image({ step: 4 })), /Expected integer >= 6 .* for frame\.step but received 4/);
    expectFrameError(() => imageToFrame(image({ data: new Uint8Array(7) })), /Expected at least 12 bytes of data for a 2x2 rgb8 frame with step 6 but received 7/);
  });

  it("refuses over-long data as the ZeroMQ front end does: its width, height or step are not the data's", () => {
    expectFrameError(() => imageToFrame(image({ data: new Uint8Array(13) })), /^Expected 12 bytes of data for a 2x2 rgb8 frame with step 6 but received 13$/);
    // Row padding is in step, and then counted.
    expect(imageToFrame(image({ step: 8, data: new Uint8Array(16) })).step).toBe(8);
  });
});

describe('node parameters', () => {
  it('checks type and range with coded messages', () => {
    expect(checkParam('threads', 2n)).toBe(2);
    expect(checkParam('score_threshold', 0.25)).toBe(0.25);
    expect(() => checkParam('score_threshold', 1.5)).toThrow(/Expected a number between 0 and 1 for parameter score_threshold but received 1.5 of type number/);
    expect(() => checkParam('image_qos', 'fast')).toThrow(/Expected one of sensor_data, reliable, system_default for parameter image_qos but received "fast"/);
    expect(() => checkParam('publish_overlay', 'yes')).toThrow(/Expected a bool for parameter publish_overlay/);
  });

  it('says what a ROS client sent of the wrong type, for any parameter kind', () => {
    expect(rosTypeMismatch('reason_every', ROS_PARAMETER_TYPES.string, 'abc')).toBe('reason_every: expected an integer, received a string "abc"');
    expect(rosTypeMismatch('score_threshold', ROS_PARAMETER_TYPES.integer, 1n)).toBe('score_threshold: expected a double (write 1.0, not 1), received an integer 1');
    expect(rosTypeMismatch('goal', 9, ['a', 'b'])).toBe('goal: expected a string, received a string array of length 2');
    expect(rosTypeMismatch('publish_overlay', 0, undefined)).toBe('publish_overlay: expected a bool, received no value');
    expect(rosTypeMismatch('threads', ROS_PARAMETER_TYPES.integer, 2n)).toBeUndefined();
  });

  it('turns the reason_* parameters into the stream policy', () => {
    expect(reasonOptions(DEFAULT_PARAMS)).toEqual({ adaptive: true });
    expect(reasonOptions({ ...DEFAULT_PARAMS, reason_every: 4, reason_after_ms: 500, reason_adaptive: false })).toEqual({ every: 4, afterMs: 500 });
  });
});
