/**
 * Who may reach the server: loopback-only endpoints by default; anything wider only with CURVE,
 * and then each connection is checked by a ZAP handler (RFC 27) against the allowed client keys.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { Router } from 'zeromq';
import { AnchorSegError, describe, invalidArg } from '../sdk/base/errors.js';

/** Server side of CURVE: the server's secret key, and the client public keys it lets in (all, if omitted). */
export interface CurveServerOptions {
  secretKey: string;
  clients?: string[];
}

/** Client side of CURVE: the server's public key and the client's own key pair. */
export interface CurveClientOptions {
  serverKey: string;
  publicKey: string;
  secretKey: string;
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const KEY = new RegExp(`^[${Z85.replace(/[-\]\\^[]/g, '\\$&')}]{40}$`);

/** A CURVE key as ZeroMQ prints it: 40 Z85 characters (32 bytes). */
export function checkKey(value: unknown, name: string): string {
  if (typeof value !== 'string' || !KEY.test(value) || !z85Decode(value)) throw invalidArg(name, 'a 40-character Z85 CURVE key', value);
  return value;
}

export function checkCurveServer(value: unknown, name: string): CurveServerOptions {
  if (typeof value !== 'object' || value === null) throw invalidArg(name, 'an object { secretKey, clients? }', value);
  const o = value as Record<string, unknown>;
  const secretKey = checkKey(o.secretKey, `${name}.secretKey`);
  if (o.clients === undefined) return { secretKey };
  if (!Array.isArray(o.clients) || o.clients.length === 0) throw invalidArg(`${name}.clients`, 'a non-empty array of client public keys', o.clients);
  return { secretKey, clients: o.clients.map((k, i) => checkKey(k, `${name}.clients[${i}]`)) };
}

export function checkCurveClient(value: unknown, name: string): CurveClientOptions {
  if (typeof value !== 'object' || value === null) throw invalidArg(name, 'an object { serverKey, publicKey, secretKey }', value);
  const o = value as Record<string, unknown>;
  return { serverKey: checkKey(o.serverKey, `${name}.serverKey`), ...checkKeyPair(o, name) };
}

/**
 * A CURVE key pair whose public key is the one its secret key makes. A mismatch would otherwise
 * show only as handshakes that fail without a word: clients told the wrong server key, or a
 * client refused by the server. `where` names the pair (an option, a file) in the error.
 */
export function checkKeyPair(pair: Record<string, unknown>, where: string, field = (key: string) => `${where}.${key}`): { publicKey: string; secretKey: string } {
  const publicKey = checkKey(pair.publicKey, field('publicKey'));
  const secretKey = checkKey(pair.secretKey, field('secretKey'));
  const derived = curvePublicKey(secretKey);
  if (publicKey !== derived) {
    throw new AnchorSegError('ERR_INVALID_ARG', `Expected publicKey ${derived} (the public key of the secretKey) in ${where} but received ${publicKey}`);
  }
  return { publicKey, secretKey };
}

/** PKCS #8 DER of an X25519 private key, up to its 32 key bytes (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key of a Z85 CURVE secret key: CURVE keys are X25519 keys (RFC 26), so node:crypto derives it. */
export function curvePublicKey(secretKey: string): string {
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, z85Decode(checkKey(secretKey, 'secretKey'))!]), format: 'der', type: 'pkcs8' });
  const { x } = createPublicKey(key).export({ format: 'jwk' });
  return z85Encode(Buffer.from(x!, 'base64url'));
}

/** The 40-character Z85 text of a 32-byte key (ZeroMQ RFC 32). */
export function z85Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = Z85[value % 85] + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

/** The bytes of Z85 text (ZeroMQ RFC 32); undefined where a 5-character group is past 2^32 - 1, as libzmq's decoder refuses it. */
export function z85Decode(text: string): Uint8Array | undefined {
  const out = new DataView(new ArrayBuffer((text.length / 5) * 4));
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let k = 0; k < 5; k++) value = value * 85 + Z85.indexOf(text[i + k]);
    if (value > 0xffffffff) return undefined;
    out.setUint32((i / 5) * 4, value);
  }
  return new Uint8Array(out.buffer);
}

/**
 * Whether an endpoint can only be reached from this machine: tcp on a loopback address,
 * ipc (a socket file) or inproc. Anything else needs CURVE.
 */
export function isLocalEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  const host = tcpHost(endpoint);
  if (host === undefined) return false;
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Whether an endpoint names an IPv6 address (`tcp://[::1]:5555`). libzmq's sockets have IPv6
 * off unless asked (ZMQ_IPV6), and then cannot bind or connect to one. Only a bracketed address
 * turns it on: with it on, `localhost` may resolve to ::1 alone, out of IPv4 peers' reach.
 */
export function isIpv6Endpoint(endpoint: string): boolean {
  return tcpHost(endpoint)?.startsWith('[') ?? false;
}

/** The host of a `tcp://host:port` endpoint (an IPv6 address with its brackets). */
function tcpHost(endpoint: string): string | undefined {
  return /^tcp:\/\/(\[[^\]]*\]|[^:/]+):(\d+|\*)$/.exec(endpoint)?.[1];
}

/** Validates a bind endpoint: a ZeroMQ tcp/ipc/inproc address, loopback unless `curve` is set. */
export function checkBindEndpoint(value: unknown, name: string, curve: boolean): string {
  if (typeof value !== 'string' || !/^(tcp|ipc|inproc):\/\/.+/.test(value)) throw invalidArg(name, 'a ZeroMQ endpoint such as tcp://127.0.0.1:5555', value);
  if (!curve && !isLocalEndpoint(value)) {
    throw new AnchorSegError(
      'ERR_INVALID_ARG',
      `Expected a loopback endpoint (tcp://127.0.0.1, tcp://[::1], tcp://localhost, ipc://, inproc://) for ${name}, or CURVE keys (options.curve) to bind beyond this machine, but received ${describe(value)}`,
    );
  }
  return value;
}

const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

interface Domain {
  allow: Set<string> | undefined;
  counts: { accepted: number; rejected: number };
}

/**
 * The process's ZAP handler: ZeroMQ allows one per context, so servers share it, each under
 * its own ZAP domain. Started by the first server with CURVE, stopped with the last.
 */
export class ZapHandler {
  static #shared: ZapHandler | undefined;
  readonly #router = new Router({ linger: 0 });
  readonly #domains = new Map<string, Domain>();
  readonly #loop: Promise<void>;

  private constructor() {
    this.#loop = this.#serve();
  }

  static async register(domain: string, allow: readonly string[] | undefined): Promise<Domain['counts']> {
    if (!ZapHandler.#shared) {
      const zap = new ZapHandler();
      ZapHandler.#shared = zap;
      await zap.#router.bind(ZAP_ENDPOINT);
    }
    const entry: Domain = { allow: allow && new Set(allow), counts: { accepted: 0, rejected: 0 } };
    ZapHandler.#shared.#domains.set(domain, entry);
    return entry.counts;
  }

  static async unregister(domain: string): Promise<void> {
    const zap = ZapHandler.#shared;
    if (!zap) return;
    if (!zap.#domains.delete(domain) || zap.#domains.size > 0) return;
    ZapHandler.#shared = undefined;
    zap.#router.close();
    await zap.#loop;
  }

  async #serve(): Promise<void> {
    try {
      for await (const [peer, delimiter, version, requestId, domain, , , mechanism, key] of this.#router) {
        const entry = this.#domains.get(domain.toString());
        const client = mechanism.toString() === 'CURVE' && key?.length === 32 ? z85Encode(key) : undefined;
        const ok = entry !== undefined && client !== undefined && (!entry.allow || entry.allow.has(client));
        if (entry) entry.counts[ok ? 'accepted' : 'rejected']++;
        const [status, text] = ok ? ['200', 'OK'] : ['400', 'client key not allowed'];
        await this.#router.send([peer, delimiter, version, requestId, status, text, ok ? client : '', '']);
      }
    } catch (err) {
      if ((err as { code?: string }).code !== 'EAGAIN' && !this.#router.closed) throw err;
    }
  }
}
