// Public API of anchorseg's ROS 2 node (`import { SegmentationNode } from 'anchorseg/ros'`).
// Needs a sourced ROS 2 and the optional dependency rclnodejs built against it (docs/ros2.md).
export { SegmentationNode, TOPICS, type SegmentationNodeOptions } from './node.js';
export { DEFAULT_PARAMS, PARAMS, type ImageQos, type MetadataFormat, type NodeParams, type ParamName } from './params.js';
export type { SegmentationMessage } from './convert.js';
export type { Counters } from './diagnostics.js';
export { loadRclnodejs, shutdownRos } from './rclnodejs.js';
export type { Rclnodejs, RosNode, RosImage, RosHeader } from './types.js';
