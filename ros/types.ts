/**
 * The part of rclnodejs' API this package uses, typed here so the SDK compiles and installs
 * without ROS: rclnodejs' own declarations reference files generated from a ROS install, and
 * rclnodejs is an optional dependency loaded at run time (see ./rclnodejs.ts).
 */
import type { Stamp } from '../sdk/base/frame.js';

/** builtin_interfaces/Time + frame id: the header every camera message carries. */
export interface RosHeader {
  stamp: Stamp;
  frame_id: string;
}

/** sensor_msgs/msg/Image as rclnodejs hands it over (uint8[] as a typed array). */
export interface RosImage {
  header: RosHeader;
  height: number;
  width: number;
  encoding: string;
  is_bigendian: number;
  step: number;
  data: Uint8Array | number[];
}

export interface RosString {
  data: string;
}

export interface RosKeyValue {
  key: string;
  value: string;
}

/** diagnostic_msgs/msg/DiagnosticStatus; `level` is a byte (OK 0, WARN 1, ERROR 2, STALE 3). */
export interface RosDiagnosticStatus {
  level: number;
  name: string;
  message: string;
  hardware_id: string;
  values: RosKeyValue[];
}

export interface RosDiagnosticArray {
  header: RosHeader;
  status: RosDiagnosticStatus[];
}

/** A QoS profile name of rclnodejs (`qos_profile_sensor_data`, ...) or an explicit profile. */
export type RosQoS = string | object;

export interface RosPublisher<T> {
  publish(message: T | Buffer): void;
  readonly topic: string;
}

/** rclnodejs' subscription handle; opaque here. */
export type RosSubscription = object;

export interface RosLogger {
  debug(message: string): boolean;
  info(message: string): boolean;
  warn(message: string): boolean;
  error(message: string): boolean;
}

/** rcl_interfaces/msg/SetParametersResult. */
export interface SetParametersResult {
  successful: boolean;
  reason: string;
}

export interface RosParameter {
  readonly name: string;
  readonly type: number;
  readonly value: unknown;
}

export interface RosParameterDescriptor {
  readonly name: string;
}

export interface RosNode {
  createPublisher<T>(type: string, topic: string, options?: { qos?: RosQoS }): RosPublisher<T>;
  createSubscription<T>(type: string, topic: string, options: { qos?: RosQoS; isRaw?: boolean }, callback: (message: T) => void): RosSubscription;
  destroySubscription(subscription: RosSubscription): void;
  destroyPublisher(publisher: RosPublisher<unknown>): void;
  countSubscribers(topic: string): number;
  countPublishers(topic: string): number;
  declareParameter(parameter: RosParameter, descriptor?: RosParameterDescriptor, ignoreOverride?: boolean): RosParameter;
  getParameter(name: string): RosParameter;
  setParameter(parameter: RosParameter): SetParametersResult;
  addOnSetParametersCallback(callback: (parameters: RosParameter[]) => SetParametersResult): void;
  getLogger(): RosLogger;
  name(): string;
  namespace(): string;
  spin(timeout?: number): void;
  destroy(): void;
}

/** Transition callbacks are synchronous in rclnodejs: they return a CallbackReturnCode. */
export interface RosLifecycleNode extends RosNode {
  readonly currentState: { readonly id: number; readonly label: string };
  registerOnConfigure(callback: () => number): void;
  registerOnActivate(callback: () => number): void;
  registerOnDeactivate(callback: () => number): void;
  registerOnCleanup(callback: () => number): void;
  registerOnShutdown(callback: () => number): void;
  configure(): unknown;
  activate(): unknown;
  deactivate(): unknown;
  cleanup(): unknown;
  shutdown(): unknown;
}

/** The rclnodejs module object. */
export interface Rclnodejs {
  init(context?: unknown, argv?: string[]): Promise<void>;
  shutdown(context?: unknown): void;
  isShutdown(): boolean;
  removeSignalHandlers(): void;
  Node: new (name: string, namespace?: string) => RosNode;
  Parameter: new (name: string, type: number, value?: unknown) => RosParameter;
  ParameterDescriptor: new (name: string, type: number, description?: string, readOnly?: boolean) => RosParameterDescriptor;
  ParameterType: Record<'PARAMETER_BOOL' | 'PARAMETER_INTEGER' | 'PARAMETER_DOUBLE' | 'PARAMETER_STRING', number>;
  QoS: {
    new (history?: number, depth?: number, reliability?: number, durability?: number): object;
    readonly profileSensorData: string;
    readonly profileDefault: string;
    readonly HistoryPolicy: Record<'RMW_QOS_POLICY_HISTORY_KEEP_LAST', number>;
    readonly ReliabilityPolicy: Record<'RMW_QOS_POLICY_RELIABILITY_RELIABLE' | 'RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT', number>;
    readonly DurabilityPolicy: Record<'RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL' | 'RMW_QOS_POLICY_DURABILITY_VOLATILE', number>;
  };
  lifecycle: {
    LifecycleNode: new (name: string, namespace?: string) => RosLifecycleNode;
    CallbackReturnCode: Record<'SUCCESS' | 'FAILURE' | 'ERROR', number>;
  };
}
