import { InvalidArgumentError, type Command } from 'commander';
import type { NodeParams } from '../../ros/params.js';
import { action, addEngineFlags, positiveInt, type EngineFlags } from '../run.js';

interface Flags extends EngineFlags {
  goal?: string;
  name: string;
  namespace: string;
  imageQos?: NodeParams['image_qos'];
  imageDepth?: number;
  scoreThreshold?: number;
  reasonEvery?: number;
  reasonAfterMs?: number;
  reasonAdaptive: boolean;
  overlay: boolean;
  metadataFormat?: NodeParams['metadata_format'];
  diagnosticsPeriod?: number;
  lifecycle?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  addEngineFlags(
    program
      .command('ros')
      .description('ROS 2 node (docs/ros2.md): image + goal in; mask, overlay, segmentation, /diagnostics out. ROS arguments follow --ros-args')
      .usage('[options] [--ros-args -p goal:="the red cup" -r image:=/camera/image_raw ...]')
      .option('-g, --goal <text>', 'goal to start with (parameter goal; also the goal topic)')
      .option('--name <name>', 'node name', 'anchorseg')
      .option('--namespace <ns>', 'node namespace', '')
      .option('--image-qos <profile>', 'image subscription QoS: sensor_data (default), reliable, system_default')
      .option('--image-depth <n>', 'images queued while the node is busy (default 10; the newest is taken, the rest counted as dropped)', positiveInt)
      .option('--score-threshold <x>', 'publish an empty mask when the score is below this (0..1)', unitInterval)
      .option('--reason-every <n>', 'also rerun the reasoner every n frames', positiveInt)
      .option('--reason-after-ms <ms>', 'also rerun the reasoner once its query bank is this old', positiveInt)
      .option('--no-reason-adaptive', 'no adaptive reasoning: the reasoner runs on goal changes (and by the two rules above) only')
      .option('--no-overlay', 'never publish the overlay topic')
      .option('--metadata-format <format>', 'segmentation topic: msg (anchorseg_msgs/Segmentation, default) or json (std_msgs/String)')
      .option('--diagnostics-period <s>', 'seconds between /diagnostics messages (0: none)', nonNegative)
      .option('--lifecycle', 'lifecycle node: starts unconfigured; configure loads the model, activate subscribes')
      .option('--json', 'JSON lines on stdout: {"event":"ready",...} once running, {"event":"closed",...} at exit')
      // Everything from --ros-args on is rcl's (remappings, -p overrides, --log-level).
      .allowUnknownOption()
      .allowExcessArguments(),
  ).action(action(run));
}

function unitInterval(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`Expected a number between 0 and 1 but received ${JSON.stringify(value)}.`);
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`Expected a number >= 0 but received ${JSON.stringify(value)}.`);
  return n;
}

async function run(flags: Flags): Promise<void> {
  // Loaded here: rclnodejs (an optional dependency) is needed by this command only.
  const { SegmentationNode } = await import('../../ros/node.js');
  const { shutdownRos } = await import('../../ros/rclnodejs.js');
  const argv = process.argv;
  const at = argv.indexOf('--ros-args');
  const parameters: Partial<NodeParams> = {
    ...(flags.goal !== undefined && { goal: flags.goal }),
    ...(flags.bundle !== undefined && { bundle: flags.bundle }),
    ...(flags.backend !== undefined && { backend: flags.backend }),
    ...(flags.threads !== undefined && { threads: flags.threads }),
    ...(flags.imageQos !== undefined && { image_qos: flags.imageQos }),
    ...(flags.imageDepth !== undefined && { image_depth: flags.imageDepth }),
    ...(flags.scoreThreshold !== undefined && { score_threshold: flags.scoreThreshold }),
    ...(flags.reasonEvery !== undefined && { reason_every: flags.reasonEvery }),
    ...(flags.reasonAfterMs !== undefined && { reason_after_ms: flags.reasonAfterMs }),
    ...(flags.metadataFormat !== undefined && { metadata_format: flags.metadataFormat }),
    ...(flags.diagnosticsPeriod !== undefined && { diagnostics_period: flags.diagnosticsPeriod }),
    reason_adaptive: flags.reasonAdaptive,
    publish_overlay: flags.overlay,
  };
  // SIGINT (a terminal) and SIGTERM (a launcher, systemd) both stop the node cleanly.
  let stop!: (sig: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  const node = await SegmentationNode.start({
    name: flags.name,
    namespace: flags.namespace,
    parameters,
    rosArgs: at >= 0 ? argv.slice(at) : [],
    lifecycle: flags.lifecycle ?? false,
  });
  const fq = `${flags.namespace.replace(/\/$/, '')}/${flags.name}`;
  if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'ready', node: fq, lifecycle: Boolean(flags.lifecycle), params: node.params })}\n`);
  else process.stderr.write(`anchorseg: ROS 2 node ${fq} running${flags.lifecycle ? ' (lifecycle: unconfigured)' : ''}; Ctrl-C stops it\n`);
  const signal = await stopped;
  await node.close();
  shutdownRos();
  if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'closed', signal, counters: node.counters })}\n`);
}
