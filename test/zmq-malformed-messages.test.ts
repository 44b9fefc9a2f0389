/**
 * Malformed commands and frames from a pyzmq peer each get a coded error (a reply on the control
 * socket, an event on the `error` topic) that says what was expected and what was received; the
 * server answers the next command and segments the next good frame.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { Segmenter } from '../sdk/index.js';
import { openServer, peer } from './zmq/harness.js';

let seg: Segmenter;
beforeAll(async () => {
  seg = await Segmenter.open();
});
afterAll(async () => {
  await seg?.close();
});

test('malformed commands get error replies and malformed frames error events; the server keeps serving', async () => {
  // A small frame limit, so the peer can also send a frame ZeroMQ itself refuses (its connection is dropped).
  await using server = await openServer(seg, { goal: 'the red cup', maxFrameBytes: 1 << 20 });
  const events = await peer('malformed', server.endpoints, ['--oversize']).done();

  const replies = Object.fromEntries(events.filter((e) => e.event === 'reply').map((e) => [e.case, e]));
  const expected: Record<string, [string, string | RegExp]> = {
    'not-json': ['ERR_PROTOCOL', /^Expected UTF-8 JSON for request but received 10 bytes that are not/],
    array: ['ERR_PROTOCOL', 'Expected a JSON object for request but received array of length 2'],
    'no-version': ['ERR_PROTOCOL', 'Expected protocol version 2 for request.v but received undefined'],
    'version-1': ['ERR_PROTOCOL', 'Expected protocol version 2 for request.v but received 1 of type number'],
    'unknown-cmd': ['ERR_PROTOCOL', 'Expected cmd among status, set_goal, pause, resume but received "reboot" of type string (length 6)'],
    'extra-key': ['ERR_PROTOCOL', 'Expected status keys among v, cmd but received unknown key "verbose"'],
    'two-parts': ['ERR_PROTOCOL', 'Expected a request of 1 part but received 2'],
    'goal-empty': ['ERR_GOAL_EMPTY', /^Expected/],
    'goal-huge': ['ERR_GOAL_TOO_LONG', /^Expected/],
    'goal-number': ['ERR_GOAL_INVALID', 'Expected a string for goal but received 42 of type number'],
  };
  expect(Object.keys(replies).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, [code, message]] of Object.entries(expected)) {
    const { reply, statusOk, goal } = replies[name];
    expect(reply.ok, name).toBe(false);
    expect(reply.v).toBe(2);
    expect(reply.error.code, name).toBe(code);
    expect(reply.error.message, name).toMatch(message);
    // The next command was answered, and a refused goal left the old one in place.
    expect({ statusOk, goal }, name).toEqual({ statusOk: true, goal: 'the red cup' });
  }

  const frameErrors = Object.fromEntries(events.filter((e) => e.event === 'frame-error').map((e) => [e.case, e]));
  const expectedFrames: Record<string, [string, string | RegExp]> = {
    'one-part': ['ERR_PROTOCOL', 'Expected a frame message [header, pixels] of 2 parts but received 1'],
    'three-parts': ['ERR_PROTOCOL', 'Expected a frame message [header, pixels] of 2 parts but received 3'],
    'header-not-json': ['ERR_PROTOCOL', /^Expected UTF-8 JSON for frame header but received 10 bytes that are not/],
    'version-missing': ['ERR_PROTOCOL', 'Expected protocol version 2 for frame header.v but received undefined'],
    'unknown-key': ['ERR_PROTOCOL', 'Expected frame header keys among v, width, height, encoding, step, stamp, frameId but received unknown key "frame_id"'],
    'width-negative': ['ERR_FRAME_INVALID', 'Expected integer between 1 and 16384 for frame header.width but received -3 of type number'],
    'encoding-unknown': ['ERR_FRAME_INVALID', /^Expected one of rgb8, .* for frame header.encoding but received "rgb16"/],
    'step-short': ['ERR_FRAME_INVALID', 'Expected integer >= 192 (width 64 x 3 bytes for rgb8) for frame header.step but received 100 of type number'],
    'pixels-short': ['ERR_FRAME_INVALID', 'Expected at least 9216 bytes of data for a 64x48 rgb8 frame with step 192 but received 9215'],
    'pixels-long': ['ERR_FRAME_INVALID', 'Expected 9216 bytes of pixels for a 64x48 rgb8 frame with step 192 but received 9217'],
    'stamp-bad': ['ERR_FRAME_INVALID', 'Expected an integer between 0 and 2147483647 for frame header.stamp.sec but received 1.5 of type number'],
    // Stamps a ROS 2 Time cannot carry (docs/zmq-protocol.md, Frames).
    'stamp-sec-negative': ['ERR_FRAME_INVALID', 'Expected an integer between 0 and 2147483647 for frame header.stamp.sec but received -1 of type number'],
    'stamp-sec-2^31': ['ERR_FRAME_INVALID', 'Expected an integer between 0 and 2147483647 for frame header.stamp.sec but received 2147483648 of type number'],
    'stamp-nanosec-1e9': ['ERR_FRAME_INVALID', 'Expected an integer between 0 and 999999999 for frame header.stamp.nanosec but received 1000000000 of type number'],
    'stamp-nanosec-negative': ['ERR_FRAME_INVALID', 'Expected an integer between 0 and 999999999 for frame header.stamp.nanosec but received -1 of type number'],
    'stamp-sec-missing': ['ERR_FRAME_INVALID', 'Expected an integer between 0 and 2147483647 for frame header.stamp.sec but received undefined'],
  };
  expect(Object.keys(frameErrors).sort()).toEqual(Object.keys(expectedFrames).sort());
  for (const [name, [code, message]] of Object.entries(expectedFrames)) {
    const { topic, error } = frameErrors[name];
    expect({ topic, v: error.v, source: error.source, code: error.code }, name).toEqual({ topic: 'error', v: 2, source: 'frames', code });
    expect(error.message, name).toMatch(message);
  }
  expect(frameErrors['width-negative'].error.frameId).toBe('neg');

  // After all that (and an oversized frame that cost the peer its connection), a good frame is segmented.
  const result = events.find((e) => e.event === 'result')!;
  expect(result).toMatchObject({ frameId: 'good-after-bad', width: 64, height: 48, stamp: { sec: 2147483647, nanosec: 999999999 }, maskBytes: 64 * 48 });
  const { status } = events.find((e) => e.event === 'status')!.reply;
  expect(status.counters).toMatchObject({ invalid: Object.keys(expectedFrames).length, results: 1, failures: 0 });
  expect(server.status().state).toBe('running');
});
