/**
 * The live viewer's HTTP side (cli/viewer/server.ts) on a real stream host and model: the page,
 * result events with the mask as RLE, the newest frame as JPEG, goal changes with coded errors,
 * and what it refuses (other Host names, non-loopback binds, form posts). All on loopback.
 */
import { request } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Viewer } from '../cli/viewer/server.js';
import { parseViewAddress } from '../cli/viewer/address.js';
import { rleDecode } from '../sdk/kernels/index.js';
import { Segmenter } from '../sdk/segmenter.js';
import { StreamHost } from '../sdk/stream/host.js';
import { paced } from '../sdk/stream/sources.js';
import type { Frame } from '../sdk/base/frame.js';
import { BUNDLE, expectCode } from './fixtures/sdk-helpers.js';
import { sequenceFrames } from './fixtures/stream-frames.js';

let seg: Segmenter;
let host: StreamHost;
let viewer: Viewer;
let run: Promise<void>;

async function* forever(frames: Frame[]): AsyncGenerator<Frame> {
  for (;;) yield* frames;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP request to the viewer with raw control over the headers (fetch would set Host itself). */
function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  const url = new URL(path, viewer.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * GET /frame.jpg of the viewer at `base` until a frame is there (503: none encoded yet). Each
 * 503's body is read, so no connection is left open, and each retry waits a little, so a loaded
 * machine's stream gets the CPU to make the frame.
 */
async function frameWhenReady(base: string): Promise<{ status: number; headers: Headers; body: Buffer }> {
  for (;;) {
    const res = await fetch(new URL('/frame.jpg', base));
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 503) return { status: res.status, headers: res.headers, body };
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

const errorOf = (r: Reply) => (JSON.parse(r.body.toString()) as { error: { code: string; message: string } }).error;
const postGoal = (goal: unknown) => call('POST', '/goal', { 'content-type': 'application/json' }, JSON.stringify({ goal }));

/** Acts as a page: reads `/events` and asks for frames (each new one sends its record) until `until` accepts an event. */
async function events(until: (e: { event: string; data: any }) => boolean): Promise<{ event: string; data: any }[]> {
  const controller = new AbortController();
  const res = await fetch(new URL('/events', viewer.url), { signal: controller.signal });
  const seen: { event: string; data: any }[] = [];
  let text = '';
  const asking = (async () => {
    while (!controller.signal.aborted) {
      await fetch(new URL('/frame.jpg', viewer.url), { signal: controller.signal }).then((r) => r.arrayBuffer());
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  })().catch(() => undefined);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString();
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const e = { event: /^event: (.*)$/m.exec(block)![1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]) };
        seen.push(e);
        if (until(e)) return seen;
      }
    }
  } finally {
    controller.abort();
    await asking;
  }
  return seen;
}

beforeAll(async () => {
  seg = await Segmenter.open(BUNDLE);
  const frames = await sequenceFrames(0, 4);
  host = new StreamHost({ goal: 'segment the yellow pen', source: paced(forever(frames), 30) });
  run = host.run(seg, { onResult: () => undefined });
  viewer = await Viewer.open(host.tap(), { port: 0 });
});

afterAll(async () => {
  await viewer?.close();
  await host?.close();
  await run;
  await seg?.close();
});

describe('viewer over HTTP', () => {
  it('serves the one static page, with a policy that allows nothing from elsewhere', async () => {
    const r = await call('GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    const html = r.body.toString();
    expect(html).toContain('id="goal-form"');
    expect(html).not.toMatch(/(src|href)=["']https?:/); // no CDN, no external fetch
  });

  it('sends the record of each frame served, its RLE the mask; nothing is kept once no page listens', async () => {
    const seen = await events((e) => e.event === 'result');
    expect(seen[0].event).toBe('status');
    expect(seen[0].data).toMatchObject({ goal: 'segment the yellow pen', viewers: 1 });
    const r = seen.at(-1)!.data;
    expect(r).toMatchObject({ goal: 'segment the yellow pen', width: 320, height: 240 });
    expect(rleDecode(r.rle).filter((v) => v !== 0).length).toBe(r.area);
    expect(r.tokenMap.data).toHaveLength(r.tokenMap.grid ** 2);
    expect(Math.max(...r.tokenMap.data)).toBe(255);
    expect(r.counters.results).toBeGreaterThan(0);
    // The events stream is closed now: no page, so no frame is kept or encoded.
    await expect.poll(() => viewer.clients).toBe(0);
    const none = await call('GET', '/frame.jpg');
    expect(none.status).toBe(503);
    expect(errorOf(none).code).toBe('ERR_BUSY');
  });

  it('serves the newest frame as a JPEG while a page listens, tagged with its result seq', async () => {
    const controller = new AbortController();
    const listening = fetch(new URL('/events', viewer.url), { signal: controller.signal });
    try {
      await listening;
      const r = await frameWhenReady(viewer.url);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/jpeg');
      expect(Number(r.headers.get('x-anchorseg-seq'))).toBeGreaterThanOrEqual(0);
      const meta = await sharp(r.body).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);
    } finally {
      controller.abort();
    }
  });

  it('changes the goal (the next results answer it) and refuses unusable goals with their codes, keeping the old one', async () => {
    for (const [goal, code] of [
      ['', 'ERR_GOAL_EMPTY'],
      ['x'.repeat(5000), 'ERR_GOAL_TOO_LONG'],
      [42, 'ERR_GOAL_INVALID'],
    ] as const) {
      const r = await postGoal(goal);
      expect(r.status, String(code)).toBe(400);
      expect(errorOf(r).code).toBe(code);
      expect(errorOf(r).message).toMatch(/^Expected .* but received/);
    }
    expect(host.goal).toBe('segment the yellow pen');
    const ok = await postGoal('the green lamp');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString())).toEqual({ goal: 'the green lamp' });
    const seen = await events((e) => e.event === 'result' && e.data.goal === 'the green lamp');
    expect(seen.at(-1)!.data.bank.reason).toBe('goal-change');
  });

  it('refuses what a page on another site could send, other Host names, and unknown routes', async () => {
    const form = await call('POST', '/goal', { 'content-type': 'text/plain' }, '{"goal":"the table"}');
    expect([form.status, errorOf(form).code]).toEqual([415, 'ERR_INVALID_ARG']);
    const rebinding = await call('GET', '/status', { host: 'attacker.example:8080' });
    expect([rebinding.status, errorOf(rebinding).code]).toEqual([403, 'ERR_INVALID_ARG']);
    const big = await call('POST', '/goal', { 'content-type': 'application/json' }, JSON.stringify({ goal: 'a'.repeat(20_000) }));
    expect(big.status).toBe(413);
    const notJson = await call('POST', '/goal', { 'content-type': 'application/json' }, '{"goal": ');
    expect([notJson.status, errorOf(notJson).code]).toEqual([400, 'ERR_INVALID_ARG']);
    expect((await call('GET', '/goal')).status).toBe(405);
    expect((await call('GET', '/nothing')).status).toBe(404);
    expect(host.goal).toBe('the green lamp');
  });

  it('binds loopback only, unless told otherwise', async () => {
    await expectCode(Viewer.open(host.tap(), { host: '0.0.0.0', port: 0 }), 'ERR_INVALID_ARG');
    await expectCode(Viewer.open(host.tap(), { host: '192.168.1.20', port: 0 }), 'ERR_INVALID_ARG');
    const v6 = await Viewer.open(host.tap(), { host: '::1', port: 0 }).catch(() => undefined); // where IPv6 loopback exists
    if (v6) expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+\/$/);
    await v6?.close();
  });

  it('reads --view addresses', () => {
    expect(parseViewAddress('8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseViewAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(parseViewAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseViewAddress('0.0.0.0')).toEqual({ host: '0.0.0.0', port: 8080 });
    for (const bad of ['::1', 'host:99999', 'a b:1', '[nope]:1']) expect(parseViewAddress(bad), bad).toBeUndefined();
  });
});

describe('viewer frames in other encodings', () => {
  it('serves a bgr8 frame as the same picture (converted to RGB before the JPEG)', async () => {
    const [rgb] = await sequenceFrames(0, 1);
    const bgr = Buffer.from(rgb.data);
    for (let i = 0; i < bgr.length; i += 3) [bgr[i], bgr[i + 2]] = [bgr[i + 2], bgr[i]];
    await using other = await Segmenter.open(BUNDLE);
    await using h = new StreamHost({ goal: 'segment the yellow pen', source: paced(forever([{ ...rgb, encoding: 'bgr8', data: bgr }]), 30) });
    const running = h.run(other, { onResult: () => undefined });
    await using v = await Viewer.open(h.tap(), { port: 0 });
    const controller = new AbortController();
    await fetch(new URL('/events', v.url), { signal: controller.signal });
    try {
      const { data } = await sharp((await frameWhenReady(v.url)).body)
        .raw()
        .toBuffer({ resolveWithObject: true });
      let diff = 0;
      for (let i = 0; i < data.length; i++) diff += Math.abs(data[i] - rgb.data[i]);
      expect(diff / data.length).toBeLessThan(6); // JPEG loss only; swapped channels would be far off
    } finally {
      controller.abort();
      await h.close();
      await running;
    }
  });
});

describe('StreamHost.watch', () => {
  it('removes a listener that throws instead of failing the stream', async () => {
    let calls = 0;
    const stop = host.watch(() => {
      calls++;
      throw new Error('broken viewer');
    });
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    expect((await warned).message).toContain('broken viewer');
    const results = host.counters.results;
    await expect.poll(() => host.counters.results).toBeGreaterThan(results + 2);
    expect(calls).toBe(1);
    expect(host.counters.failures).toBe(0);
    stop();
  });
});
