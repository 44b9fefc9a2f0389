/**
 * A robot program with the anchorseg ROS 2 node inside it: segment what a camera sees, react to
 * each result, change the goal as the task moves on.
 *
 *   npm run build
 *   bash ros/with-ros.sh node dist/examples/ros-camera.js "the yellow pen" "the red cup"
 *
 * The node reads `image` (remap it to your camera: add `--ros-args -r image:=/camera/image_raw`).
 * Without a camera, publish one from this repository (another terminal):
 *   bash ros/with-ros.sh python3 test/ros/peer.py camera --width 640 --height 480 --count 600
 *
 * In your own project the import is `from 'anchorseg/ros'`.
 */
import { SegmentationNode, shutdownRos, type SegmentationMessage } from '../ros/index.js';

const [first = 'the yellow pen', next] = process.argv.slice(2);
const rosArgs = process.argv.includes('--ros-args') ? process.argv.slice(process.argv.indexOf('--ros-args')) : [];

// Loads the embedded model, subscribes `image` and `goal`, publishes mask/overlay/segmentation.
const node = await SegmentationNode.start({ parameters: { goal: first }, rosArgs });

// Our own subscriber on the node's metadata, through the same rclnodejs node.
let results = 0;
node.rosNode.createSubscription<SegmentationMessage>('anchorseg_msgs/msg/Segmentation', 'segmentation', {}, (m) => {
  results++;
  const where = m.found ? `found (score ${m.score.toFixed(2)}) at bbox [${m.bbox.join(', ')}], anchor (${m.anchor_x.toFixed(0)}, ${m.anchor_y.toFixed(0)})` : `not found (score ${m.score.toFixed(2)})`;
  console.log(`${m.header.frame_id} @ ${m.header.stamp.sec}.${String(m.header.stamp.nanosec).padStart(9, '0')}: "${m.goal}" ${where}, ${m.latency_ms.toFixed(0)} ms`);
  // A new task after 50 results: the reasoner runs once for the new goal, then masks follow it.
  if (next && results === 50) node.setGoal(next);
});

// Ctrl-C: finish the frame in flight, close the model and the node.
await new Promise((resolve) => process.once('SIGINT', resolve));
await node.close();
shutdownRos();
