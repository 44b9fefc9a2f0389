/** The node's ROS parameters: names, types, defaults, which may change at run time, and checks. */
import { AnchorSegError, describe } from '../sdk/base/errors.js';
import type { ReasonOptions } from '../sdk/stream/policy.js';

export type ParamKind = 'string' | 'integer' | 'double' | 'bool';

interface ParamSpec {
  kind: ParamKind;
  description: string;
  /** Read-only parameters are fixed once the node has started (set them with --ros-args -p). */
  readOnly: boolean;
  /** Undefined when the value is acceptable, else what was expected. */
  check?: (value: never) => string | undefined;
}

const QOS_NAMES = ['sensor_data', 'reliable', 'system_default'] as const;
export type ImageQos = (typeof QOS_NAMES)[number];
const METADATA_FORMATS = ['msg', 'json'] as const;
export type MetadataFormat = (typeof METADATA_FORMATS)[number];

const nonNegative = (v: number) => (v >= 0 && Number.isFinite(v) ? undefined : 'a number >= 0');
const oneOf = (names: readonly string[]) => (v: string) => (names.includes(v) ? undefined : `one of ${names.join(', ')}`);

export const PARAMS = {
  goal: { kind: 'string', readOnly: false, description: 'What to segment, in plain language; empty: wait for one (also settable on the goal topic)' },
  bundle: { kind: 'string', readOnly: true, description: 'Model bundle folder; empty: the embedded anchorseg-tiny' },
  backend: { kind: 'string', readOnly: true, description: 'Inference backend or comma-separated preference list (onnx, tensorrt); empty: best available' },
  threads: { kind: 'integer', readOnly: true, description: 'Operator threads per engine; 0: the backend default', check: nonNegative },
  score_threshold: {
    kind: 'double',
    readOnly: false,
    description: 'Results scoring below this are published as an empty mask (found = false); 0 publishes every mask',
    check: (v: number) => (v >= 0 && v <= 1 ? undefined : 'a number between 0 and 1'),
  },
  reason_every: { kind: 'integer', readOnly: true, description: 'Rerun the reasoner every N frames besides goal changes; 0: off', check: nonNegative },
  reason_after_ms: { kind: 'double', readOnly: true, description: 'Rerun the reasoner once its query bank is this old (ms); 0: off', check: nonNegative },
  reason_adaptive: { kind: 'bool', readOnly: true, description: 'Rerun the reasoner when scores, the anchor map or the scene say its query bank went stale' },
  image_qos: {
    kind: 'string',
    readOnly: true,
    description: `QoS of the image subscription: ${QOS_NAMES.join(', ')} (sensor_data = best effort, which also accepts reliable publishers)`,
    check: oneOf(QOS_NAMES),
  },
  image_depth: {
    kind: 'integer',
    readOnly: true,
    description: 'Images the subscription queues while the node is busy; the node then takes the newest and counts the rest as dropped (deeper: fewer uncounted losses in DDS, more copies)',
    check: (v: number) => (v >= 1 && v <= 100 ? undefined : 'an integer between 1 and 100'),
  },
  publish_overlay: { kind: 'bool', readOnly: false, description: 'Publish the rgb8 overlay (computed only while the overlay topic has subscribers)' },
  publish_segmentation: { kind: 'bool', readOnly: false, description: 'Publish per-frame metadata on the segmentation topic' },
  metadata_format: { kind: 'string', readOnly: true, description: 'segmentation topic type: msg (anchorseg_msgs/Segmentation) or json (std_msgs/String)', check: oneOf(METADATA_FORMATS) },
  diagnostics_period: { kind: 'double', readOnly: true, description: 'Seconds between /diagnostics messages; 0: none', check: nonNegative },
} as const satisfies Record<string, ParamSpec>;

export type ParamName = keyof typeof PARAMS;
type ValueOf<K extends ParamKind> = K extends 'string' ? string : K extends 'bool' ? boolean : number;
export type NodeParams = { -readonly [N in ParamName]: ValueOf<(typeof PARAMS)[N]['kind']> };

export const DEFAULT_PARAMS: Readonly<NodeParams> = {
  goal: '',
  bundle: '',
  backend: '',
  threads: 0,
  score_threshold: 0,
  reason_every: 0,
  reason_after_ms: 0,
  reason_adaptive: true,
  image_qos: 'sensor_data',
  image_depth: 10,
  publish_overlay: true,
  publish_segmentation: true,
  metadata_format: 'msg',
  diagnostics_period: 1,
};

/** Checks one value against its parameter's type and range; throws ERR_INVALID_ARG naming the parameter. */
export function checkParam<N extends ParamName>(name: N, value: unknown): NodeParams[N] {
  const spec: ParamSpec = PARAMS[name];
  const typed =
    spec.kind === 'string'
      ? typeof value === 'string'
      : spec.kind === 'bool'
        ? typeof value === 'boolean'
        : spec.kind === 'integer'
          ? (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint'
          : typeof value === 'number';
  const expected = spec.kind === 'double' ? 'a number' : spec.kind === 'integer' ? 'an integer' : `a ${spec.kind}`;
  if (!typed) throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${expected} for parameter ${name} but received ${describe(value)}`);
  const v = typeof value === 'bigint' ? Number(value) : value;
  const problem = spec.check?.(v as never);
  if (problem) throw new AnchorSegError('ERR_INVALID_ARG', `Expected ${problem} for parameter ${name} but received ${describe(v)}`);
  return v as NodeParams[N];
}

/** rcl_interfaces/msg/ParameterType values (fixed by the message definition) of each kind. */
export const ROS_PARAMETER_TYPES: Readonly<Record<ParamKind, number>> = { bool: 1, integer: 2, double: 3, string: 4 };
/** What a ROS client must send for each kind; 1 is an integer to `ros2 param set`. */
const ROS_KIND_NAMES: Readonly<Record<ParamKind, string>> = { bool: 'a bool', integer: 'an integer', double: 'a double (write 1.0, not 1)', string: 'a string' };
/** Every ParameterType by value, as a reason names it. */
const ROS_TYPE_NAMES = ['no value', 'a bool', 'an integer', 'a double', 'a string', 'a byte array', 'a bool array', 'an integer array', 'a double array', 'a string array'];

/**
 * Why a value a ROS client sent cannot be set, `reason_every: expected an integer, received a
 * string "abc"`, or undefined when its type is the parameter's (its range is checkParam's).
 */
export function rosTypeMismatch(name: ParamName, type: number, value: unknown): string | undefined {
  const kind: ParamKind = PARAMS[name].kind;
  if (type === ROS_PARAMETER_TYPES[kind]) return undefined;
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
      : Array.isArray(value) || ArrayBuffer.isView(value)
        ? `of length ${(value as ArrayLike<unknown>).length}`
        : String(value);
  const received = type === 0 ? ROS_TYPE_NAMES[0] : ROS_TYPE_NAMES[type] ? `${ROS_TYPE_NAMES[type]} ${shown}` : `unknown parameter type ${type}`;
  return `${name}: expected ${ROS_KIND_NAMES[kind]}, received ${received}`;
}

/** The stream's reasoning policy from the reason_* parameters. */
export function reasonOptions(p: NodeParams): ReasonOptions {
  return {
    ...(p.reason_every > 0 && { every: p.reason_every }),
    ...(p.reason_after_ms > 0 && { afterMs: p.reason_after_ms }),
    ...(p.reason_adaptive && { adaptive: true }),
  };
}
