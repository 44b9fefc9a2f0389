import { InvalidArgumentError, type Command } from 'commander';
import { positiveNumber } from '../run.js';
import type { StreamTap } from '../../sdk/stream/host.js';
import { DEFAULT_VIEW, checkViewHost, parseViewAddress, type ViewAddress } from './address.js';
import { Viewer } from './server.js';

export interface ViewFlags {
  /** commander gives `true` for a bare `--view`. */
  view?: ViewAddress | true;
  viewRemote?: boolean;
  viewFps?: number;
}

function addressFlag(value: string): ViewAddress {
  const address = parseViewAddress(value);
  if (!address) throw new InvalidArgumentError(`Expected host:port, host or port (e.g. 127.0.0.1:8080, [::1]:8080, 8081) but received ${JSON.stringify(value)}.`);
  return address;
}

const REMOTE = '--view-remote';
const FPS = '--view-fps <n>';
const FPS_HELP = 'frames per second the viewer page shows at most (default 15): its cost to the pipeline grows with it';
const REMOTE_HELP = 'let the viewer bind a non-loopback address. WARNING: the viewer has no authentication; anyone who reaches it sees the frames and can change the goal';

/** `--view [address]` and `--view-remote` on stream, serve and ros: a viewer beside the front end. */
export function addViewFlags(cmd: Command): Command {
  return cmd
    .option(
      '--view [address]',
      `serve the live viewer, a web page with the frames, mask, goal box and counters, at host:port, host or port (default ${DEFAULT_VIEW.host}:${DEFAULT_VIEW.port}; port 0: any free port)`,
      addressFlag,
    )
    .option(REMOTE, REMOTE_HELP)
    .option(FPS, FPS_HELP, positiveNumber);
}

/** `anchorseg view`: the address flag always applies, so it takes a value. */
export function addViewAddressFlags(cmd: Command): Command {
  return cmd
    .option('--view <address>', `where the viewer listens: host:port, host or port (default ${DEFAULT_VIEW.host}:${DEFAULT_VIEW.port}; port 0: any free port)`, addressFlag)
    .option(REMOTE, REMOTE_HELP);
}

/** The viewer's address from the flags (undefined: no viewer); refuses a non-loopback one without --view-remote. Call it before loading the model. */
export function viewAddress(flags: ViewFlags, always = false): ViewAddress | undefined {
  if (flags.view === undefined && !always) return undefined;
  const address = flags.view === undefined || flags.view === true ? DEFAULT_VIEW : flags.view;
  checkViewHost(address.host, flags.viewRemote ?? false);
  return address;
}

/** Opens the viewer the flags ask for (`always`: even without --view, at the default address) and says where it is on stderr. */
export async function openViewer(tap: StreamTap, flags: ViewFlags, always = false): Promise<Viewer | undefined> {
  const address = viewAddress(flags, always);
  if (!address) return undefined;
  const viewer = await Viewer.open(tap, { ...address, remote: flags.viewRemote ?? false, ...(flags.viewFps !== undefined && { fps: flags.viewFps }) });
  process.stderr.write(`anchorseg: viewer at ${viewer.url}${flags.viewRemote ? ' (WARNING: --view-remote, no authentication)' : ''}\n`);
  return viewer;
}
