import { performance } from 'node:perf_hooks';
import type { Manifest } from '../sdk/model/manifest.js';
import type { StreamCounters, StreamResult } from '../sdk/stream/stream.js';

/** Extra figures a caller knows about a result (e.g. IoU against ground truth). */
export interface ViewExtra {
  /** Where the frame came from (e.g. a sequence name). */
  label?: string;
  iou?: number;
  /** Running mean IoU so far. */
  gIoU?: number;
}

/** What the view shows besides the result: a stream's or a stream host's counters and rate. */
export type ViewStats = StreamCounters & { fps: number };

const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 1000;
const BAR = 24;

/**
 * The terminal view of a running stream: on a TTY a block of lines redrawn in place (at most
 * ten times a second); otherwise a plain line per second and on every goal change, so logs stay readable.
 */
export class LiveView {
  readonly #out: NodeJS.WritableStream;
  readonly #tty: boolean;
  readonly #total: number | undefined;
  #drawn = 0;
  #lastDraw = -Infinity;
  #goal: string | undefined;
  #latency: number | undefined;
  #engines: number | undefined;

  constructor(out: NodeJS.WritableStream & { isTTY?: boolean }, total?: number) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#total = total;
  }

  update(r: StreamResult, stats: ViewStats, extra: ViewExtra = {}): void {
    // Smoothed: single frames jitter on a shared CPU.
    this.#latency = this.#latency === undefined ? r.latencyMs : 0.9 * this.#latency + 0.1 * r.latencyMs;
    this.#engines = this.#engines === undefined ? r.timings.total : 0.9 * this.#engines + 0.1 * r.timings.total;
    const goalChanged = r.goalText !== this.#goal;
    this.#goal = r.goalText;
    const now = performance.now();
    if (!goalChanged && now - this.#lastDraw < (this.#tty ? REDRAW_MS : PLAIN_EVERY_MS)) return;
    this.#lastDraw = now;
    if (this.#tty) this.#redraw(this.#block(r, stats, extra));
    else this.#out.write(`${this.#line(r, stats, extra)}\n`);
  }

  /** Leaves the last block on screen and prints `lines` below it. */
  finish(lines: string[]): void {
    this.#drawn = 0;
    this.#out.write(`${lines.join('\n')}\n`);
  }

  #progress(r: StreamResult): string {
    const n = r.frameIndex + 1;
    if (!this.#total) return `frame ${n}`;
    const done = Math.min(BAR, Math.round((n / this.#total) * BAR));
    return `frame ${String(n).padStart(String(this.#total).length)}/${this.#total} [${'#'.repeat(done)}${'.'.repeat(BAR - done)}]`;
  }

  #block(r: StreamResult, s: ViewStats, x: ViewExtra): string[] {
    const iou = x.iou === undefined ? '' : `  IoU ${x.iou.toFixed(2)} (mean ${x.gIoU?.toFixed(3) ?? '-'}, vs ground truth)`;
    return [
      `${this.#progress(r)}${x.label ? `  ${x.label}` : ''}`,
      `fps ${s.fps.toFixed(1).padStart(5)}   latency ${this.#latency!.toFixed(1)} ms   engines ${this.#engines!.toFixed(1)} ms/frame   dropped ${r.dropped}`,
      `goal   "${r.goalText}"`,
      `result ${r.found ? 'found    ' : 'not found'}  score ${r.score.toFixed(2)}  area ${r.area} px${iou}`,
      `bank   #${r.bank.id} (${r.bank.reason}), ${r.bank.ageFrames} frames / ${Math.round(r.bank.ageMs)} ms old; reasoner ran on ${s.banks} of ${s.results} frames`,
    ];
  }

  #line(r: StreamResult, s: ViewStats, x: ViewExtra): string {
    const iou = x.iou === undefined ? '' : ` iou ${x.iou.toFixed(2)}`;
    return `${this.#progress(r).replace(/ \[.*\]/, '')}${x.label ? ` ${x.label}` : ''} fps ${s.fps.toFixed(1)} latency ${this.#latency!.toFixed(1)}ms score ${r.score.toFixed(2)} ${r.found ? 'found' : 'not-found'}${iou} bank #${r.bank.id} ${r.bank.reason} age ${r.bank.ageFrames} dropped ${r.dropped} goal "${r.goalText}"`;
  }

  #redraw(lines: string[]): void {
    const cols = (this.#out as { columns?: number }).columns ?? 100;
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : '';
    this.#out.write(`${up}${lines.map((l) => `\x1b[2K${l.length > cols ? `${l.slice(0, cols - 1)}…` : l}`).join('\n')}\n`);
    this.#drawn = lines.length;
  }
}

/** One line naming the model and how far to trust its masks (an untrained export says so). */
export function modelLine(m: Manifest): string {
  const step = (m.model.config as { step?: unknown } | undefined)?.step;
  const test = m.metrics?.test?.gIoU;
  const state = step === 0 ? 'an UNTRAINED early export: its masks mean nothing yet' : typeof test === 'number' ? `test gIoU ${test.toFixed(3)}` : 'no test metrics in its manifest';
  return `model ${m.model.name} ${m.model.version} (${state})`;
}
