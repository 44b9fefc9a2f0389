// The node's life: SIGINT / SIGTERM stop it cleanly (exit 130 / 143, counters reported), and the lifecycle
// variant segments only between activate and deactivate (JSON metadata here, the alternative format)
// and survives a transition its state does not offer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRos, isolateDomain, logged, NodeProcess, Peer } from './ros/harness.js';

describeRos('anchorseg ros: shutdown and lifecycle', () => {
  beforeAll(() => {
    isolateDomain();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`stops cleanly on ${signal} while a camera is streaming`, async () => {
      const node = new NodeProcess(['--name', `anchorseg_${signal.toLowerCase()}`, '--goal', 'the yellow pen', '--threads', '1']);
      const cam = new Peer(['camera', '--width', '320', '--height', '240', '--count', '1000', '--rate', '15']);
      try {
        await node.ready();
        await cam.next('sent', 60_000, (e) => (e.index as number) >= 10);
        node.kill(signal);
        expect(await node.exited).toBe({ SIGINT: 130, SIGTERM: 143 }[signal]);
        expect(node.all('closed')).toEqual([expect.objectContaining({ signal, counters: expect.objectContaining({ received: expect.any(Number) }) })]);
        expect((node.all('closed')[0].counters as { received: number }).received).toBeGreaterThan(0);
      } finally {
        await Promise.all([cam.close(), node.close()]);
      }
    }, 120_000);
  }

  it('refuses to start on a missing bundle or a bad parameter override: one coded line, exit 1, no hang', async () => {
    const noBundle = new NodeProcess(['--name', 'anchorseg_nobundle', '--bundle', '/nonexistent/bundle']);
    expect(await noBundle.exited).toBe(1);
    expect(noBundle.stderr).toMatch(/anchorseg: .*\/nonexistent\/bundle.* \[ERR_BUNDLE_NOT_FOUND\]/);
    const badParam = new NodeProcess(['--name', 'anchorseg_badparam', '--ros-args', '-p', 'score_threshold:=2.0']);
    expect(await badParam.exited).toBe(1);
    expect(badParam.stderr).toMatch(/Expected a number between 0 and 1 for parameter score_threshold but received 2 of type number \[ERR_INVALID_ARG\]/);
    // A wrong type reads the same as through set_parameters (rclnodejs alone: "Parameter threads does not  readonly").
    const badType = new NodeProcess(['--name', 'anchorseg_badtype', '--ros-args', '-p', 'threads:=abc']);
    expect(await badType.exited).toBe(1);
    expect(badType.stderr).toContain('anchorseg: Refused a --ros-args override: threads: expected an integer, received a string "abc" [ERR_INVALID_ARG]');
  }, 120_000);

  describeRos('lifecycle node', () => {
    let node: NodeProcess;
    let cam: Peer;
    let meta: Peer;
    const lifecycle = (transition: string) => new Peer(['lifecycle', '--node', '/anchorseg_lc', '--transition', transition]);

    beforeAll(async () => {
      node = new NodeProcess(['--name', 'anchorseg_lc', '--lifecycle', '--metadata-format', 'json', '--goal', 'the yellow pen', '--threads', '1']);
      await node.ready();
      meta = new Peer(['listen', '--topic', 'segmentation', '--type', 'string', '--qos', 'reliable', '--timeout', '150']);
      await meta.next('ready');
      cam = new Peer(['camera', '--width', '320', '--height', '240', '--count', '5000', '--rate', '10', '--wait-subscribers', '0']);
    }, 120_000);

    afterAll(async () => {
      await Promise.all([cam?.close(), meta?.close()]);
      await node?.close();
    });

    it('starts unconfigured and publishes nothing before activation', async () => {
      expect(await lifecycle('get').next('state')).toMatchObject({ label: 'unconfigured' });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(meta.all('string')).toHaveLength(0);
    }, 60_000);

    it('refuses a transition its state does not offer (activate by id while unconfigured): answers false, logs why, stays up', async () => {
      // rclnodejs 2.2 alone aborts the process here (SIGABRT from inside its change_state handler).
      const early = lifecycle('activate');
      expect(await early.next('result')).toMatchObject({ success: false });
      expect(await early.next('state')).toMatchObject({ label: 'unconfigured' });
      await logged(node, /refusing change_state request: Expected a transition that state unconfigured offers \(.*configure = 1.*\) but received id 3 \(activate\)/);
      // The next test configures and activates it: valid transitions still work and masks flow.
    }, 60_000);

    it('configure loads the model, activate segments, deactivate stops', async () => {
      const configure = lifecycle('configure');
      expect(await configure.next('result')).toMatchObject({ success: true });
      expect(await configure.next('state')).toMatchObject({ label: 'inactive' });
      const activate = lifecycle('activate');
      expect(await activate.next('state')).toMatchObject({ label: 'active' });
      const first = await meta.next('string', 90_000);
      // The JSON format is the result record (the one shape of results.jsonl and the ZeroMQ result header).
      const json = JSON.parse(first.data as string) as Record<string, unknown>;
      expect(json).toMatchObject({ goal: 'the yellow pen', width: 320, height: 240, frameId: 'camera_optical_frame' });
      for (const key of ['seq', 'frameIndex', 'stamp', 'score', 'found', 'area', 'bbox', 'anchor', 'rle', 'bank', 'latencyMs', 'dropped']) expect(json).toHaveProperty(key);

      expect(await lifecycle('deactivate').next('state')).toMatchObject({ label: 'inactive' });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // a mask in flight may still land
      const settled = meta.all('string').length;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(meta.all('string').length).toBe(settled);
      expect(await lifecycle('cleanup').next('state')).toMatchObject({ label: 'unconfigured' });
    }, 150_000);
  });
});
