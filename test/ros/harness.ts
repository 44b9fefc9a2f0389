import { createHash } from 'node:crypto';
import { PYTHON, type JsonProcess } from '../../bench/ros-processes.js';
import { describeWhen } from '../fixtures/describe-when.js';

export { JsonProcess, NodeProcess, Peer, type PeerEvent } from '../../bench/ros-processes.js';

/** CI and `npm run test:ros` must run these suites: there, a missing ROS 2 fails instead of skipping. */
export const ROS_REQUIRED = process.env.ANCHORSEG_ROS_REQUIRED === '1' || process.env.CI === 'true';

/** Why ROS 2 tests cannot run here, or undefined when they can. */
export function rosMissing(): string | undefined {
  if (!process.env.ROS_DISTRO || !process.env.AMENT_PREFIX_PATH || !PYTHON) {
    return 'no ROS 2 environment: run `npm run test:ros` (or `bash ros/setup-ros.sh && source .ros/env.sh`)';
  }
  return undefined;
}

/** `describe`, or, without ROS 2: skipped locally, a failing test where ROS is required. */
export function describeRos(name: string, body: () => void): void {
  describeWhen(name, rosMissing(), ROS_REQUIRED, 'has a ROS 2 environment', body);
}

let domain: string | undefined;

/**
 * A DDS domain for this test process alone (random per run, whatever the shell had), set before
 * rclnodejs starts and inherited by every peer, so parallel files and other runs never meet.
 */
export function isolateDomain(): string {
  domain ??= process.env.ROS_DOMAIN_ID = String(1 + Math.floor(Math.random() * 200));
  return domain;
}

/** The bytes peer.py's camera sends for frame `index` (same formula), for byte-exact checks. */
export function pattern(index: number, byteLength: number): Uint8Array {
  const base = Uint8Array.from({ length: 251 }, (_, i) => (i * 7 + index * 13) % 251);
  const out = new Uint8Array(byteLength);
  for (let i = 0; i < byteLength; i += 251) out.set(base.subarray(0, Math.min(251, byteLength - i)), i);
  return out;
}

/** peer.py's digest: the first 16 hex digits of the bytes' SHA-256. */
export function digest(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}

/** Waits until the process's stderr matches: ROS log lines land there, unordered with any reply or event. */
export async function logged(proc: JsonProcess, pattern: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = proc.stderr.match(pattern);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} within ${ms} ms; stderr ends:\n${proc.stderr.split('\n').slice(-20).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
