/** Shared by the test/zmq-*.test.ts files: pyzmq peers as child processes, servers on free loopback ports. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { PYTHON, ROOT } from '../fixtures/sdk-helpers.js';
import type { Segmenter } from '../../sdk/segmenter.js';
import { AnchorSegServer, type ServerOptions } from '../../zmq/index.js';

export const PEER = path.join(ROOT, 'test', 'zmq', 'peer.py');

/** Random free ports on 127.0.0.1: ZeroMQ binds `*` to an ephemeral port, `server.endpoints` tells which. */
export const LOOPBACK = { control: 'tcp://127.0.0.1:*', results: 'tcp://127.0.0.1:*', frames: 'tcp://127.0.0.1:*' };

export function openServer(seg: Segmenter, options: ServerOptions = {}): Promise<AnchorSegServer> {
  return AnchorSegServer.open(seg, { ...LOOPBACK, ...options });
}

export interface PeerEvent {
  event: string;
  [key: string]: any;
}

/** A running pyzmq peer (test/zmq/peer.py): its JSON events as they come, stdin, and its exit. */
export class Peer {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly events: PeerEvent[] = [];
  readonly #waiters: { event: string; resolve: (e: PeerEvent) => void }[] = [];
  #stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.#child = spawn(PYTHON, [PEER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as PeerEvent;
      this.events.push(e);
      const i = this.#waiters.findIndex((w) => w.event === e.event);
      if (i >= 0) this.#waiters.splice(i, 1)[0].resolve(e);
    });
    this.exited = new Promise((resolve) => this.#child.on('close', resolve));
  }

  /** The first event named `event` (already received or still to come). */
  next(event: string): Promise<PeerEvent> {
    const seen = this.events.find((e) => e.event === event);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ event, resolve }));
  }

  write(line: string): void {
    this.#child.stdin.write(`${line}\n`);
  }

  /** Waits for exit; throws with the peer's output unless it exited 0. */
  async done(): Promise<PeerEvent[]> {
    const code = await this.exited;
    if (code !== 0) throw new Error(`peer exited ${code}\nstdout: ${JSON.stringify(this.events)}\nstderr: ${this.#stderr}`);
    return this.events;
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}

export function peer(mode: string, endpoints: Partial<Record<'control' | 'results' | 'frames', string | null>>, extra: string[] = []): Peer {
  const args = [mode];
  for (const [k, v] of Object.entries(endpoints)) if (v) args.push(`--${k}`, v);
  return new Peer([...args, ...extra]);
}

/** Polls until `check` holds: how long sockets take to connect or drain is not what the tests measure. */
export async function until(check: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await check())) await sleep(20);
}
