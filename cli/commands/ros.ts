import type { Command } from 'commander';
import { PARAMS, type NodeParams, type ParamName } from '../../ros/params.js';
import { addParamFlags, paramsFromFlags } from '../param-flags.js';
import { aborted, action, addEngineFlags, interruptSignal, type EngineFlags } from '../run.js';
import { addViewFlags, openViewer, viewAddress, type ViewFlags } from '../viewer/flags.js';

/** The engine parameters come from addEngineFlags (the same flags as every command); every other parameter is a flag of its own. */
const ENGINE_PARAMS: readonly ParamName[] = ['bundle', 'backend', 'threads'];
const FLAG_PARAMS = (Object.keys(PARAMS) as ParamName[]).filter((name) => !ENGINE_PARAMS.includes(name));

interface Flags extends EngineFlags, ViewFlags {
  name: string;
  namespace: string;
  lifecycle?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  addViewFlags(
    addParamFlags(
      addEngineFlags(
        program
          .command('ros')
          .description('ROS 2 node (docs/ros2.md): image + goal in; mask, overlay, segmentation, /diagnostics out. A flag per parameter; ROS arguments follow --ros-args (-p there wins)')
          .usage('[options] [--ros-args -p goal:="the red cup" -r image:=/camera/image_raw ...]')
          .option('--name <name>', 'node name', 'anchorseg')
          .option('--namespace <ns>', 'node namespace', '')
          .option('--lifecycle', 'lifecycle node: starts unconfigured; configure loads the model, activate subscribes')
          .option('--json', 'JSON lines on stdout: {"event":"ready",...} once running, {"event":"closed",...} at exit')
          // Everything from --ros-args on is rcl's (remappings, -p overrides, --log-level).
          .allowUnknownOption()
          .allowExcessArguments(),
      ),
      FLAG_PARAMS,
      { goal: '-g' },
    ),
  ).action(action(run));
}

async function run(flags: Flags): Promise<void> {
  // SIGINT (a terminal) and SIGTERM (a launcher, systemd) both stop the node cleanly.
  const signal = interruptSignal();
  // Loaded here: rclnodejs (an optional dependency) is needed by this command only.
  const { SegmentationNode } = await import('../../ros/node.js');
  const { shutdownRos } = await import('../../ros/rclnodejs.js');
  const argv = process.argv;
  const at = argv.indexOf('--ros-args');
  const parameters: Partial<NodeParams> = {
    ...(flags.bundle !== undefined && { bundle: flags.bundle }),
    ...(flags.backend !== undefined && { backend: flags.backend }),
    ...(flags.threads !== undefined && { threads: flags.threads }),
    ...paramsFromFlags(flags as unknown as Record<string, unknown>, FLAG_PARAMS),
  };

  viewAddress(flags);
  const node = await SegmentationNode.start({
    name: flags.name,
    namespace: flags.namespace,
    parameters,
    rosArgs: at >= 0 ? argv.slice(at) : [],
    lifecycle: flags.lifecycle ?? false,
  });
  const viewer = await openViewer(node.tap(), flags).catch(async (err: unknown) => {
    await node.close();
    throw err;
  });
  const fq = `${flags.namespace.replace(/\/$/, '')}/${flags.name}`;
  if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'ready', node: fq, lifecycle: Boolean(flags.lifecycle), params: node.params, ...(viewer && { view: viewer.url }) })}\n`);
  else process.stderr.write(`anchorseg: ROS 2 node ${fq} running${flags.lifecycle ? ' (lifecycle: unconfigured)' : ''}; Ctrl-C stops it\n`);
  await aborted(signal);
  await viewer?.close();
  await node.close();
  shutdownRos();
  if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'closed', signal: (signal.reason as Error).message, counters: node.counters })}\n`);
}
