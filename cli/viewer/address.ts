import { isIP } from 'node:net';
import { AnchorSegError } from '../../sdk/base/errors.js';

export interface ViewAddress {
  host: string;
  port: number;
}

export const DEFAULT_VIEW: ViewAddress = { host: '127.0.0.1', port: 8080 };

/** 127.0.0.0/8, ::1 (and IPv4-mapped loopback) and `localhost`: addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** `port`, `host`, `host:port` or `[ipv6]:port`; the host defaults to 127.0.0.1, the port to 8080. Undefined when it is none of those. */
export function parseViewAddress(value: string): ViewAddress | undefined {
  if (/^\d+$/.test(value)) return Number(value) <= 65535 ? { host: DEFAULT_VIEW.host, port: Number(value) } : undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([a-zA-Z0-9.-]*))(?::(\d+))?$/.exec(value);
  if (!m) return undefined;
  const host = m[1] ?? m[2];
  const port = m[3] === undefined ? DEFAULT_VIEW.port : Number(m[3]);
  if (port > 65535 || (m[1] !== undefined && isIP(host) !== 6)) return undefined;
  return { host: host || DEFAULT_VIEW.host, port };
}

/** Refuses a non-loopback host unless `remote`: the viewer has no authentication. */
export function checkViewHost(host: string, remote: boolean): void {
  if (remote || isLoopback(host)) return;
  throw new AnchorSegError(
    'ERR_INVALID_ARG',
    `Expected a loopback address for the viewer (127.0.0.1, ::1, localhost) but received ${JSON.stringify(host)}: it has no authentication, anyone who reaches it sees the frames and can change the goal (--view-remote binds it anyway)`,
  );
}
