import { AnchorSegError } from '../sdk/base/errors.js';
import type { Rclnodejs } from './types.js';

// A variable specifier keeps TypeScript from resolving rclnodejs' own declarations, which
// exist only where its messages were generated against a ROS install.
const MODULE = 'rclnodejs';

let loading: Promise<Rclnodejs> | undefined;
let loaded: Rclnodejs | undefined;

/**
 * rclnodejs, loaded on first use: an optional dependency that needs a sourced ROS 2
 * (a system install, or `bash ros/setup-ros.sh` + `source .ros/env.sh` in this checkout).
 * Throws ERR_NATIVE_UNAVAILABLE saying which of the two is missing. Its own SIGINT handler (which
 * shuts rcl down) is removed: the program owning the nodes stops them.
 */
export function loadRclnodejs(): Promise<Rclnodejs> {
  loading ??= (async () => {
    if (!process.env.ROS_DISTRO || !process.env.AMENT_PREFIX_PATH) {
      throw new AnchorSegError(
        'ERR_NATIVE_UNAVAILABLE',
        `Expected a sourced ROS 2 environment (ROS_DISTRO and AMENT_PREFIX_PATH set) but received ROS_DISTRO=${process.env.ROS_DISTRO ?? 'unset'}, AMENT_PREFIX_PATH=${process.env.AMENT_PREFIX_PATH ?? 'unset'}: source your ROS 2 setup (or, in this repository, run bash ros/setup-ros.sh and source .ros/env.sh)`,
      );
    }
    try {
      const mod = (await import(MODULE)) as { default?: Rclnodejs } & Rclnodejs;
      loaded = mod.default ?? mod;
      // rclnodejs shuts every rcl context down on SIGINT by itself, from its import on; the owner
      // of the node decides instead (close()). Removed here, at once: a SIGINT while rcl starts
      // left a node created on a dead context (anchorseg ros exited 70).
      loaded.removeSignalHandlers();
      return loaded;
    } catch (err) {
      throw new AnchorSegError(
        'ERR_NATIVE_UNAVAILABLE',
        `Expected the optional dependency rclnodejs built against ROS 2 ${process.env.ROS_DISTRO} but loading it failed: ${(err as Error).message.split('\n')[0]}`,
        { cause: err },
      );
    }
  })();
  loading.catch(() => {
    loading = undefined; // a later call (after sourcing ROS) may succeed
  });
  return loading;
}

/** Shuts rcl down (after the last node is closed) so the process can exit; a no-op when never started. */
export function shutdownRos(): void {
  if (loaded && !loaded.isShutdown()) loaded.shutdown();
}
