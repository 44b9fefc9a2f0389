// The ROS 2 graph itself: rclnodejs (built by ros/setup-ros.sh) and rclpy peers exchange
// sensor_msgs/Image over real DDS on loopback, both ways, at camera size.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadRclnodejs } from '../ros/rclnodejs.js';
import type { Rclnodejs, RosImage, RosNode } from '../ros/types.js';
import { describeRos, digest, isolateDomain, pattern, Peer } from './ros/harness.js';

describeRos('ROS 2 graph: rclpy <-> rclnodejs', () => {
  let rcl: Rclnodejs;
  let node: RosNode;

  beforeAll(async () => {
    isolateDomain();
    rcl = await loadRclnodejs();
    await rcl.init();
    node = new rcl.Node('anchorseg_graph_test');
    node.spin();
  });

  afterAll(() => {
    node?.destroy();
    if (rcl && !rcl.isShutdown()) rcl.shutdown();
  });

  it('receives a best-effort 640x480 rgb8 camera from rclpy with header and bytes intact', async () => {
    const received: RosImage[] = [];
    const sub = node.createSubscription<RosImage>('sensor_msgs/msg/Image', 'graph_camera', { qos: rcl.QoS.profileSensorData }, (m) => received.push(m));
    const camera = new Peer(['camera', '--topic', 'graph_camera', '--count', '20', '--rate', '30', '--frame-id', 'cam_a']);
    try {
      await camera.next('done');
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await camera.close();
      node.destroySubscription(sub);
    }
    // Best effort may drop under load; every frame that arrives must be exact.
    expect(received.length).toBeGreaterThan(0);
    for (const m of received) {
      const index = m.header.stamp.sec - 1000;
      expect(m.header).toEqual({ stamp: { sec: 1000 + index, nanosec: 1000 * index }, frame_id: 'cam_a' });
      expect([m.width, m.height, m.encoding, m.step]).toEqual([640, 480, 'rgb8', 1920]);
      expect(Buffer.from(m.data as Uint8Array).equals(pattern(index, 640 * 480 * 3))).toBe(true);
    }
  });

  it('delivers every frame of a reliable camera in order', async () => {
    const stamps: number[] = [];
    const sub = node.createSubscription<RosImage>('sensor_msgs/msg/Image', 'graph_reliable', { qos: rcl.QoS.profileDefault }, (m) => stamps.push(m.header.stamp.sec));
    const camera = new Peer(['camera', '--topic', 'graph_reliable', '--qos', 'reliable', '--depth', '30', '--count', '15', '--width', '320', '--height', '240']);
    try {
      await camera.next('done');
      for (let i = 0; i < 50 && stamps.length < 15; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await camera.close();
      node.destroySubscription(sub);
    }
    expect(stamps).toEqual(Array.from({ length: 15 }, (_, i) => 1000 + i));
  });

  it('publishes a mono8 image that an rclpy subscriber receives byte for byte', async () => {
    const listener = new Peer(['listen', '--topic', 'graph_mask', '--qos', 'reliable', '--count', '1']);
    const pub = node.createPublisher<RosImage>('sensor_msgs/msg/Image', 'graph_mask');
    try {
      await listener.next('ready');
      const data = pattern(3, 640 * 480);
      const message: RosImage = { header: { stamp: { sec: 42, nanosec: 7 }, frame_id: 'cam_b' }, height: 480, width: 640, encoding: 'mono8', is_bigendian: 0, step: 640, data };
      // Discovery is asynchronous: publish until the listener reports the image.
      const got = listener.next('image', 15_000);
      const timer = setInterval(() => pub.publish(message), 200);
      const image = await got.finally(() => clearInterval(timer));
      expect(image).toMatchObject({ stamp: { sec: 42, nanosec: 7 }, frame_id: 'cam_b', width: 640, height: 480, encoding: 'mono8', step: 640, bytes: 640 * 480, digest: digest(data) });
    } finally {
      await listener.close();
      node.destroyPublisher(pub);
    }
  });
});
