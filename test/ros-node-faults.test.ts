// What a broken driver or a careless client can send the node, from rclpy peers on a real ROS 2
// graph: bursts of malformed images (rate-limited log, /diagnostics), over-long image data, and
// parameter values of the wrong type. The node answers each with a reason and keeps segmenting.
// (A lifecycle transition its state does not offer: ros-lifecycle-shutdown.test.ts.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRos, isolateDomain, logged, NodeProcess, Peer, type PeerEvent } from './ros/harness.js';

interface Status {
  level: number;
  message: string;
  values: Record<string, string>;
}

const status = (e: PeerEvent) => (e.status as Status[])[0];

describeRos('anchorseg ros: bad input from the graph', () => {
  let node: NodeProcess;

  beforeAll(async () => {
    isolateDomain();
    node = new NodeProcess(['--name', 'anchorseg_faults', '--goal', 'the yellow pen', '--threads', '1']);
    await node.ready();
  }, 120_000);

  afterAll(async () => {
    await node?.close();
  });

  /** A valid camera until one mask comes out: the node still segments. */
  async function stillSegments(firstSec: number): Promise<void> {
    const masks = new Peer(['listen', '--topic', 'mask', '--qos', 'reliable', '--count', '1', '--timeout', '90', '--wait-publishers', '1']);
    try {
      await masks.next('ready');
      const cam = new Peer(['camera', '--width', '320', '--height', '240', '--count', '300', '--rate', '10', '--first-sec', String(firstSec)]);
      await masks.next('image', 90_000).finally(() => cam.close());
    } finally {
      await masks.close();
    }
  }

  // First in the file: no earlier bad image may have opened the node's one-second log window.
  it('logs the count of bad images it did not log once their second is over, with no further bad image', async () => {
    const bad = new Peer(['bad', '--kinds', 'truncated', '--repeat', '12', '--gap', '0.005']);
    await bad.next('done', 30_000).finally(() => bad.close());
    // Five lines a second, then a count: before, the count waited for the next bad image.
    const [, skipped] = await logged(node, /(\d+) more bad images were skipped without a log line/);
    expect(Number(skipped)).toBeGreaterThan(0);
  }, 60_000);

  it('refuses over-long image data as the ZeroMQ front end does, saying expected and received bytes, and goes on', async () => {
    const bad = new Peer(['bad', '--kinds', 'overlong']);
    await bad.next('done', 30_000).finally(() => bad.close());
    await logged(node, /skipping image: Expected 9216 bytes of data for a 64x48 rgb8 frame with step 192 but received 18432/);
    await stillSegments(3000);
  }, 150_000);

  it('reports WARN on /diagnostics under a flood of invalid images (count, last code), OK again once valid frames flow', async () => {
    const diag = new Peer(['listen', '--topic', '/diagnostics', '--type', 'diagnostics', '--qos', 'reliable', '--timeout', '150', '--wait-publishers', '1']);
    try {
      await diag.next('ready');
      const bad = new Peer(['bad', '--kinds', 'wrong_step,unknown_encoding,truncated,overlong', '--repeat', '10', '--gap', '0.01']);
      const warned = await diag.next('diagnostics', 60_000, (e) => status(e).level === 1 && /invalid images/.test(status(e).message)).finally(() => bad.close());
      const warn = status(warned);
      expect(warn.message).toMatch(/^(\d+) invalid images in the last period \(last refused with ERR_FRAME_INVALID\)$/);
      expect(warn.message.startsWith(`${warn.values.invalid_period} `)).toBe(true);
      expect(Number(warn.values.invalid_period)).toBeGreaterThan(0);

      const mark = diag.all('diagnostics').length;
      const cam = new Peer(['camera', '--width', '320', '--height', '240', '--count', '1000', '--rate', '10', '--first-sec', '4000']);
      try {
        const ok = await diag.next('diagnostics', 90_000, (e) => diag.all('diagnostics').indexOf(e) >= mark && status(e).level === 0);
        expect(status(ok).message).toMatch(/^segmenting at /);
        expect(status(ok).values.invalid_period).toBe('0');
      } finally {
        await cam.close();
      }
    } finally {
      await diag.close();
    }
  }, 180_000);

  it('refuses a parameter value of the wrong type with a reason that names parameter, expected and received type', async () => {
    const set = async (name: string, value: string, type: string) => {
      const peer = new Peer(['set-param', '--node', '/anchorseg_faults', '--name', name, '--value', value, '--type', type]);
      try {
        return await peer.next('result');
      } finally {
        await peer.close();
      }
    };
    // reason_every is read-only too: the type is the first thing wrong with "abc".
    expect(await set('reason_every', 'abc', 'string')).toMatchObject({ successful: false, reason: 'reason_every: expected an integer, received a string "abc"' });
    expect(await set('score_threshold', 'true', 'bool')).toMatchObject({ successful: false, reason: 'score_threshold: expected a double (write 1.0, not 1), received a bool true' });
    expect(await set('goal', '3', 'integer')).toMatchObject({ successful: false, reason: 'goal: expected a string, received an integer 3' });
    // Right types still go through their checks, and through.
    expect(await set('score_threshold', '2.0', 'double')).toMatchObject({ successful: false, reason: expect.stringMatching(/Expected a number between 0 and 1 for parameter score_threshold/) });
    expect(await set('score_threshold', '0.0', 'double')).toMatchObject({ successful: true });
    await stillSegments(5000);
  }, 150_000);
});
