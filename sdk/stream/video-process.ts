import { spawn, type ChildProcess } from 'node:child_process';
import { AnchorSegError } from '../base/errors.js';
import type { Frame } from '../base/frame.js';
import type { DropMode } from './intake.js';
import { stampOf } from './sources.js';

/** A program a video source runs, and what to install when it is missing. */
export interface Tool {
  program: string;
  install: string;
}

/** The command line of a decoder that writes raw rgb24 frames of one size to its stdout. */
export interface Launch {
  tool: Tool;
  args: string[];
  /** How to ask the program to stop (ffmpeg: SIGTERM; gst-launch-1.0 -e: SIGINT, which sends EOS). */
  stopSignal: NodeJS.Signals;
}

/** When and how often a live source is restarted after its decoder stopped. */
export interface RestartOptions {
  /** Restarts in a row without a frame in between before the source fails (default 5; Infinity: keep trying). */
  attempts?: number;
  /** Wait before the first restart (default 500 ms); each further one waits `factor` times longer... */
  initialDelayMs?: number;
  /** ...up to this bound (default 8000 ms). */
  maxDelayMs?: number;
  /** Default 2. */
  factor?: number;
}

/** What `onRestart` is told: a restart is scheduled after `delayMs`. */
export interface RestartEvent {
  /** 1 for the first restart after frames were flowing, then 2, 3, ... */
  attempt: number;
  /** The bound on `attempt` (RestartOptions.attempts). */
  attempts: number;
  delayMs: number;
  /** Why the decoder stopped: its exit code or signal and the last line it wrote to stderr. */
  reason: string;
}

export interface VideoSourceCounters {
  /** Complete frames read from the decoder. */
  frames: number;
  /** Frames handed to the consumer. */
  delivered: number;
  /** Frames replaced by a newer one before the consumer asked (latest frame wins). */
  dropped: number;
  /** Restarts scheduled after the decoder stopped. */
  restarts: number;
}

/** Everything a VideoSource needs once the frame size is known. */
export interface VideoSourceSpec {
  launch: Launch;
  /** Shown in messages: `ffmpeg rtsp://...`, `gst-launch-1.0 videotestsrc ...`. */
  description: string;
  width: number;
  height: number;
  /** Output frame rate where known (stamps of a non-live source are k / fps). */
  fps: number | undefined;
  live: boolean;
  drop: DropMode;
  restart: Required<RestartOptions> | false;
  onRestart: ((event: RestartEvent) => void) | undefined;
  signal: AbortSignal | undefined;
  frameId: string | undefined;
}

const STOP_GRACE_MS = 3000;
const STDERR_TAIL = 2048;

/** ENOENT from spawn: the program is not on the PATH. */
export function toolMissing(tool: Tool, cause: unknown): AnchorSegError {
  return new AnchorSegError('ERR_TOOL_MISSING', `Expected ${tool.program} on the PATH but it was not found: install ${tool.install}`, { cause });
}

/** `ffmpeg exited with code 1: <last stderr line>` */
export function exitReason(program: string, code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const last = stderr.trim().split('\n').at(-1)?.trim();
  return `${program} ${signal ? `was stopped by ${signal}` : `exited with code ${code}`}${last ? `: ${last}` : ''}`;
}

/**
 * Ends a child for good: its stdout is closed first (a decoder blocked writing a full pipe gets
 * EPIPE rather than waiting for a signal that a blocked write may not see), then `signal`, then
 * SIGKILL after a grace period. Resolves once the child has exited, i.e. was reaped: no zombie.
 */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(force);
      child.stderr?.destroy();
      resolve();
    };
    const exited = child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
    const force = exited ? undefined : setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.stdout?.destroy();
    if (exited) return done();
    child.once('exit', done);
    child.kill(signal);
  });
}

/**
 * Frames decoded by a child process (ffmpeg, gst-launch-1.0) that writes raw rgb24 frames to its
 * stdout. Live sources keep only the newest frame (latest frame wins, the rest are counted as
 * dropped) and never make the decoder wait; with `drop: 'none'` the decoder's stdout is paused
 * while a frame waits, so a file is decoded only as fast as it is consumed (back-pressure).
 * A decoder that stops is restarted with exponential backoff where `restart` allows. The child
 * starts at the first `next()`; `close()`, aborting the signal or leaving a `for await` loop
 * stops it. A source is iterated once (a second iteration is ERR_BUSY).
 */
export class VideoSource implements AsyncIterable<Frame> {
  readonly width: number;
  readonly height: number;
  readonly fps: number | undefined;
  readonly live: boolean;
  readonly drop: DropMode;
  readonly description: string;
  readonly #spec: VideoSourceSpec;
  readonly #frameBytes: number;
  readonly #counters: VideoSourceCounters = { frames: 0, delivered: 0, dropped: 0, restarts: 0 };
  #child: ChildProcess | undefined;
  #stderr = '';
  #partial: Uint8Array | undefined;
  /** The pixels of the last dropped frame, never handed out: the next frame is read into them. */
  #spare: Uint8Array | undefined;
  #filled = 0;
  #queue: Frame[] = [];
  #wake: (() => void) | undefined;
  #started = false;
  #iterating = false;
  #ended = false;
  #error: unknown;
  #closed = false;
  #closing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Restarts in a row since the last frame. */
  #attempt = 0;
  readonly #onAbort = () => void this.close();

  constructor(spec: VideoSourceSpec) {
    this.#spec = spec;
    this.width = spec.width;
    this.height = spec.height;
    this.fps = spec.fps;
    this.live = spec.live;
    this.drop = spec.drop;
    this.description = spec.description;
    this.#frameBytes = spec.width * spec.height * 3;
    spec.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** A copy of the counters. */
  get counters(): VideoSourceCounters {
    return { ...this.#counters };
  }

  /** The running decoder's process id (diagnostics, tests); undefined between restarts and after close. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  [Symbol.asyncIterator](): AsyncIterator<Frame> {
    if (this.#iterating) throw new AnchorSegError('ERR_BUSY', `Expected one iteration of ${this.description} but it has been iterated already (a video source is read once)`);
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** Stops the decoder (waits until it has exited) and ends the iteration. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#spec.signal?.removeEventListener('abort', this.#onAbort);
      clearTimeout(this.#timer);
      this.#queue = [];
      this.#wake?.();
      const child = this.#child;
      this.#child = undefined;
      if (child) await stopChild(child, this.#spec.launch.stopSignal);
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #next(): Promise<IteratorResult<Frame>> {
    if (!this.#started && !this.#closed) {
      if (this.#spec.signal?.aborted) await this.close();
      else {
        this.#started = true;
        this.#spawn();
      }
    }
    for (;;) {
      const frame = this.#queue.shift();
      if (frame) {
        this.#counters.delivered++;
        if (this.#queue.length === 0) this.#child?.stdout?.resume();
        return { value: frame, done: false };
      }
      if (this.#closed) return { value: undefined, done: true };
      if (this.#error !== undefined) {
        const err = this.#error;
        await this.close();
        throw err;
      }
      if (this.#ended) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.#wake = () => {
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }

  #spawn(): void {
    const { tool, args } = this.#spec.launch;
    this.#stderr = '';
    this.#partial = undefined;
    this.#filled = 0;
    let child: ChildProcess;
    try {
      child = spawn(tool.program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      this.#fail(new AnchorSegError('ERR_SOURCE_FAILED', `Expected to start ${tool.program} for ${this.description} but ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.#child = child;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (child === this.#child) this.#onData(chunk);
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (child !== this.#child) return;
      this.#child = undefined;
      this.#fail(err.code === 'ENOENT' ? toolMissing(tool, err) : new AnchorSegError('ERR_SOURCE_FAILED', `Expected ${tool.program} to run but ${err.message}`, { cause: err }));
    });
    // 'close' comes after stdout has been read to its end, so the last frames are in.
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (child === this.#child) this.#onExit(code, signal);
    });
  }

  #onData(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.#partial) {
        this.#partial = this.#spare ?? new Uint8Array(this.#frameBytes);
        this.#spare = undefined;
      }
      const n = Math.min(chunk.length - offset, this.#frameBytes - this.#filled);
      this.#partial.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      if (this.#filled === this.#frameBytes) {
        this.#push(this.#partial);
        this.#partial = undefined;
        this.#filled = 0;
      }
    }
  }

  #push(data: Uint8Array): void {
    const { width, height } = this;
    const k = this.#counters.frames++;
    this.#attempt = 0;
    // Live: wall-clock arrival, as a camera driver stamps. A file: its own clock, k / fps.
    const stamp = this.live || !this.fps ? stampOf(Date.now()) : stampOf((k * 1000) / this.fps);
    const frame: Frame = { width, height, encoding: 'rgb8', step: width * 3, data, stamp, ...(this.#spec.frameId !== undefined && { frameId: this.#spec.frameId }) };
    if (this.drop === 'latest') {
      const dropped = this.#queue.pop();
      if (dropped) {
        this.#counters.dropped++;
        this.#spare = dropped.data;
      }
      this.#queue = [frame];
    } else {
      this.#queue.push(frame);
      // Frames of one chunk may queue up behind it; nothing more is read until they are taken.
      this.#child?.stdout?.pause();
    }
    this.#wake?.();
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#child = undefined;
    if (this.#closed) return;
    const reason = exitReason(this.#spec.launch.tool.program, code, signal, this.#stderr);
    const r = this.#spec.restart;
    // A clean end is the end, unless a live source is to be restarted (a camera's stream ended).
    if (code === 0 && !(this.live && r)) {
      this.#ended = true;
      this.#wake?.();
      return;
    }
    if (r && this.#attempt < r.attempts) {
      const delayMs = Math.min(r.initialDelayMs * r.factor ** this.#attempt, r.maxDelayMs);
      this.#attempt++;
      this.#counters.restarts++;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (!this.#closed) this.#spawn();
      }, delayMs);
      this.#spec.onRestart?.({ attempt: this.#attempt, attempts: r.attempts, delayMs, reason });
      return;
    }
    const tried = r ? ` (after ${this.#attempt} restarts in a row without a frame)` : '';
    this.#fail(new AnchorSegError('ERR_SOURCE_FAILED', `Expected ${this.description} to ${this.live ? 'keep delivering frames' : 'decode to its end'} but ${reason}${tried}`));
  }

  #fail(err: AnchorSegError): void {
    if (this.#closed) return;
    this.#error = err;
    this.#wake?.();
  }
}
