/** Processes that speak JSON lines on stdout: rclpy peers (peer.py) and the node CLI. No vitest here: bench/ros.ts uses it too. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../sdk/kernels/native.js';

const ROOT = packageRoot();
const PEER = path.join(ROOT, 'test', 'ros', 'peer.py');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
/** The ROS venv's python (set by .ros/env.sh), else the python3 of a sourced system ROS. */
export const PYTHON = process.env.ANCHORSEG_ROS_PYTHON ?? (process.env.ROS_DISTRO ? 'python3' : undefined);

export interface PeerEvent {
  event: string;
  [key: string]: unknown;
}

/** A process reporting JSON lines on stdout ({"event": ...}) whose reports can be awaited. */
export class JsonProcess {
  readonly #child: ChildProcess;
  readonly #events: PeerEvent[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #stderr: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(command: string, args: string[]) {
    this.#child = spawn(command, args, { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      try {
        this.#events.push(JSON.parse(line) as PeerEvent);
      } catch {
        this.#stderr.push(`(stdout) ${line}`);
      }
      for (const wake of this.#waiters) wake();
    });
    createInterface({ input: this.#child.stderr! }).on('line', (line) => this.#stderr.push(line));
    this.exited = new Promise((resolve) =>
      this.#child.on('close', (code) => {
        resolve(code);
        for (const wake of this.#waiters) wake();
      }),
    );
  }

  get events(): readonly PeerEvent[] {
    return this.#events;
  }

  /** stderr so far (ROS logs go there), one string. */
  get stderr(): string {
    return this.#stderr.join('\n');
  }

  get pid(): number {
    return this.#child.pid!;
  }

  /** Every event of this kind so far. */
  all(event: string): PeerEvent[] {
    return this.#events.filter((e) => e.event === event);
  }

  /** Waits until `count` events of this kind arrived (or the process ended / the time is up), then returns them. */
  async collect(event: string, count: number, ms: number): Promise<PeerEvent[]> {
    const deadline = Date.now() + ms;
    while (this.all(event).length < count && this.#child.exitCode === null && Date.now() < deadline) {
      await this.#event(deadline);
    }
    return this.all(event);
  }

  /** Resolves at the next event or exit of the process, or at `deadline`. */
  #event(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        this.#waiters.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
      this.#waiters.add(wake);
    });
  }

  /** Sends a signal (the node's shutdown tests). */
  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** The first event matching, waiting up to `ms`; the error carries the peer's stderr. */
  async next(event: string, ms = 30_000, where: (e: PeerEvent) => boolean = () => true): Promise<PeerEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.#events.find((e) => e.event === event && where(e));
      if (found) return found;
      if (this.#child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`${this.#child.spawnargs.slice(1, 4).join(' ')}: no "${event}" event (exit ${this.#child.exitCode}); stderr:\n${this.#stderr.slice(-20).join('\n')}`);
      }
      await this.#event(deadline);
    }
  }

  /**
   * Stops the process (SIGTERM: it reports and exits) and waits for it; one still up after
   * `graceMs` is killed, with a warning, so that cleanup never hangs a run (how the node stops
   * on a signal is tested on its own, in test/ros-lifecycle-shutdown.test.ts).
   */
  async close(graceMs = 20_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => {
      timer = setTimeout(() => resolve('grace over'), graceMs);
    });
    const outcome = await Promise.race([this.exited, graceOver]);
    clearTimeout(timer);
    if (outcome !== 'grace over') return;
    console.warn(`${this.#child.spawnargs.slice(1, 4).join(' ')}: still running ${graceMs} ms after SIGTERM, killed; stderr:\n${this.#stderr.slice(-20).join('\n')}`);
    this.#child.kill('SIGKILL');
    await this.exited;
  }
}

/** An rclpy peer: test/ros/peer.py <command> ... with the ROS venv's python. */
export class Peer extends JsonProcess {
  constructor(args: string[]) {
    super(PYTHON ?? 'python3', [PEER, ...args]);
  }
}

/** The anchorseg node as users run it: `anchorseg ros --json ...` (dist/, built by the vitest setup). */
export class NodeProcess extends JsonProcess {
  constructor(args: string[]) {
    super(process.execPath, [CLI, 'ros', '--json', ...args]);
  }

  /** Resolves once the node reports it is up (model loaded, topics created). */
  async ready(ms = 90_000): Promise<PeerEvent> {
    return this.next('ready', ms);
  }
}
