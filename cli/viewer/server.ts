import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { AnchorSegError, invalidArg } from '../../sdk/base/errors.js';
import type { Frame } from '../../sdk/base/frame.js';
import { overlay } from '../../sdk/kernels/index.js';
import { packageRoot } from '../../sdk/kernels/native.js';
import { resultRecord, type StreamTap } from '../../sdk/stream/host.js';
import type { StreamResult } from '../../sdk/stream/stream.js';
import { checkViewHost, isLoopback, type ViewAddress } from './address.js';

export interface ViewerOptions extends Partial<ViewAddress> {
  /** Bind `host` even when it is not a loopback address (no authentication: anyone who reaches it can watch and change the goal). */
  remote?: boolean;
  /** JPEG quality of the frames served, 1..100 (default 75). */
  quality?: number;
  /** Frames per second a page asks for at most (default 15): what the viewer costs the pipeline scales with it. */
  fps?: number;
}

/** The one static page (HTML + inline script), shipped in the package beside the compiled CLI's sources. */
const PAGE_FILE = path.join(packageRoot(), 'cli', 'viewer', 'viewer.html');
const MAX_GOAL_BODY = 16 * 1024;
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' blob:; connect-src 'self'";

/**
 * The live viewer (`anchorseg view`, `--view` on stream, serve and ros): an HTTP server on a
 * front end's `StreamTap`. A page asks for the newest frame (`/frame.jpg`, JPEG) at most `fps` times
 * a second and gets that result's record by server-sent events (`/events`); it draws mask outline,
 * bbox, anchor and token map itself. On the result path the viewer only keeps a reference: nothing
 * is encoded while no page asks, only the newest frame is, once however many pages ask, on
 * sharp's worker threads; a slow page simply asks less often.
 */
export class Viewer {
  readonly #tap: StreamTap;
  readonly #server: Server;
  readonly #page: Buffer;
  readonly #quality: number;
  readonly #fps: number;
  readonly #loopback: boolean;
  readonly #clients = new Set<ServerResponse>();
  #unwatch: (() => void) | undefined;
  #latest: StreamResult | undefined;
  /** The frame last served: its JPEG, shared by every page that asks before a newer result arrives. */
  #shown: { seq: number; jpeg: Promise<Buffer> } | undefined;
  #blank: { width: number; height: number; mask: Uint8Array } | undefined;
  #closing: Promise<void> | undefined;

  private constructor(tap: StreamTap, server: Server, page: Buffer, { quality, fps }: { quality: number; fps: number }, loopback: boolean) {
    this.#tap = tap;
    this.#server = server;
    this.#page = page;
    this.#quality = quality;
    this.#fps = fps;
    this.#loopback = loopback;
  }

  /** Binds (default 127.0.0.1:8080; port 0: any free port) and serves. Refuses a non-loopback host without `remote`. */
  static async open(tap: StreamTap, options: ViewerOptions = {}): Promise<Viewer> {
    const { host = '127.0.0.1', port = 8080, remote = false, quality = 75, fps = 15 } = options;
    if (typeof tap?.watch !== 'function' || typeof tap.setGoal !== 'function') throw invalidArg('tap', 'a StreamTap (a StreamHost, or a server or node tap())', tap);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw invalidArg('options.port', 'an integer port 0..65535', port);
    if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw invalidArg('options.quality', 'an integer 1..100', quality);
    if (typeof fps !== 'number' || !(fps > 0) || !Number.isFinite(fps)) throw invalidArg('options.fps', 'a finite number > 0', fps);
    checkViewHost(host, remote);
    const page = readFileSync(PAGE_FILE);
    const server = createServer();
    const viewer = new Viewer(tap, server, page, { quality, fps }, isLoopback(host));
    server.on('request', (req, res) => viewer.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new AnchorSegError('ERR_INVALID_ARG', `Expected an address the viewer can listen on (${host}:${port}) but ${err.message}`, { cause: err })));
      server.listen(port, host, resolve);
    });
    return viewer;
  }

  /** Where the page is, e.g. `http://127.0.0.1:8080/`. */
  get url(): string {
    const a = this.#server.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`;
  }

  /** Pages connected now (open `/events` streams). */
  get clients(): number {
    return this.#clients.size;
  }

  /** Ends the event streams and stops listening. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#unwatch?.();
      this.#unwatch = undefined;
      for (const res of this.#clients) res.end();
      this.#clients.clear();
      this.#server.closeAllConnections();
      await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.#closing) return void res.destroy();
    // A page on another site must not reach a loopback viewer through a name that resolves to 127.0.0.1 (DNS rebinding).
    if (this.#loopback && !isLoopback(hostName(req.headers.host)))
      return void fail(res, 403, 'ERR_INVALID_ARG', `Expected a loopback Host header but received ${JSON.stringify(req.headers.host ?? '')}`);
    const url = new URL(req.url ?? '/', 'http://viewer');
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /':
      case 'GET /index.html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'cache-control': 'no-store' });
        return void res.end(this.#page);
      case 'GET /events':
        return void this.#subscribe(req, res);
      case 'GET /frame.jpg':
        return void this.#sendFrame(res);
      case 'GET /status':
        return void json(res, 200, this.#status());
      case 'POST /goal':
        return void this.#setGoal(req, res);
    }
    if (['/', '/index.html', '/events', '/frame.jpg', '/status', '/goal'].includes(url.pathname))
      return void fail(res, 405, 'ERR_INVALID_ARG', `Expected ${url.pathname === '/goal' ? 'POST' : 'GET'} for ${url.pathname} but received ${req.method}`);
    fail(res, 404, 'ERR_INVALID_ARG', `Expected one of /, /events, /frame.jpg, /status, /goal but received ${JSON.stringify(url.pathname)}`);
  }

  #status() {
    return { goal: this.#tap.goal ?? null, fps: this.#tap.fps, counters: this.#tap.counters, viewers: this.#clients.size, maxFps: this.#fps };
  }

  /** `/events`: a `status` event now, then a `result` event for each frame served (to every page; skipped where a connection is backed up). */
  #subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.#clients.add(res);
    res.write(`event: status\ndata: ${JSON.stringify(this.#status())}\n\n`);
    // On the result path only a reference is kept: records and JPEGs are made when a page asks for a frame.
    this.#unwatch ??= this.#tap.watch((r) => {
      this.#latest = r;
    });
    req.on('close', () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) {
        this.#unwatch?.();
        this.#unwatch = undefined;
        this.#latest = undefined;
        this.#shown = undefined;
      }
    });
  }

  /**
   * `/frame.jpg`: the newest result's frame, its `seq` in `x-anchorseg-seq`. A frame not served
   * before is encoded once and its result record goes out on `/events` first, so pages pair the two.
   */
  async #sendFrame(res: ServerResponse): Promise<void> {
    const r = this.#latest;
    if (!r) return fail(res, 503, 'ERR_BUSY', 'Expected a result to show but none has arrived since a page connected to /events (connect there first)');
    if (this.#shown?.seq !== r.seq) {
      this.#shown = { seq: r.seq, jpeg: this.#encode(r.frame) };
      const event = `event: result\ndata: ${JSON.stringify({ ...resultRecord(r), tokenMap: tokenMapOf(r), fps: this.#tap.fps, counters: this.#tap.counters })}\n\n`;
      for (const client of this.#clients) if (!client.writableNeedDrain) client.write(event);
    }
    try {
      const bytes = await this.#shown.jpeg;
      res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'no-store', 'x-anchorseg-seq': String(r.seq), 'content-length': bytes.length });
      res.end(bytes);
    } catch (err) {
      fail(res, 500, 'ERR_INTERNAL', `Expected to encode frame ${r.seq} as JPEG but ${(err as Error).message}`);
    }
  }

  /** JPEG on libvips' threads; a frame that is not exactly packed rgb8 (padded rows, other encodings) is converted to it first (the overlay kernel with an empty mask). */
  #encode(frame: Frame): Promise<Buffer> {
    const { width, height } = frame;
    let rgb: Uint8Array = frame.data;
    if (frame.encoding !== 'rgb8' || frame.step !== width * 3 || frame.data.byteLength !== width * height * 3) {
      if (this.#blank?.width !== width || this.#blank.height !== height) this.#blank = { width, height, mask: new Uint8Array(width * height) };
      rgb = overlay(frame, this.#blank.mask);
    }
    return (
      sharp(rgb, { raw: { width, height, channels: 3 } })
        // Huffman optimisation would take about half as long again for some 12 % fewer bytes: not worth it on a live view.
        .jpeg({ quality: this.#quality, optimiseCoding: false })
        .toBuffer()
    );
  }

  /** `POST /goal` `{"goal": "..."}` (application/json: a page on another site cannot send one without CORS, which this server never grants). */
  async #setGoal(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') return fail(res, 415, 'ERR_INVALID_ARG', `Expected content-type application/json for POST /goal but received ${JSON.stringify(type)}`);
    let text = '';
    try {
      text = await readBody(req, MAX_GOAL_BODY);
    } catch (err) {
      return fail(res, 413, 'ERR_INVALID_ARG', (err as Error).message);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return fail(res, 400, 'ERR_INVALID_ARG', `Expected a JSON body {"goal": "..."} but ${(err as Error).message}`);
    }
    const goal = (body as { goal?: unknown } | null)?.goal;
    try {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidArg('the body of POST /goal', 'a JSON object {"goal": "..."}', body);
      if (typeof goal !== 'string') throw invalidArg('goal', 'a string', goal, 'ERR_GOAL_INVALID');
      this.#tap.setGoal(goal);
    } catch (err) {
      if (err instanceof AnchorSegError) return fail(res, err.code === 'ERR_DISPOSED' ? 503 : 400, err.code, err.message);
      throw err;
    }
    json(res, 200, { goal: this.#tap.goal ?? goal });
  }
}

/** The token map quantised to 0..255 (its own min..max): the page's inset needs the shape, not the values. */
function tokenMapOf(r: StreamResult): { grid: number; data: number[] } {
  const { grid, data } = r.tokenMap;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  return { grid, data: Array.from(data, (v) => Math.round((v - lo) * scale)) };
}

function hostName(header: string | undefined): string {
  if (!header) return '';
  return header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d+$/, '');
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error(`Expected a body of at most ${limit} bytes for POST /goal but received more`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  json(res, status, { error: { code, message } });
}
