/** The node's health as diagnostic_msgs/DiagnosticStatus: rates over the last period, totals, state. */
import type { RosDiagnosticStatus } from './types.js';

/** Running totals the node keeps; the window turns two readings into rates. */
export interface Counters {
  /** Images received on the image topic (valid or not). */
  received: number;
  /** Images refused as malformed (logged and skipped). */
  invalid: number;
  /** Images dropped by latest-frame-wins while inference was busy. */
  dropped: number;
  /** Masks published. */
  results: number;
  /** Overlays published (only while the overlay topic has subscribers). */
  overlays: number;
  /** Reasoner runs (query banks made). */
  banks: number;
  /** Sum of image-arrival-to-mask-publication latency over published masks (ms). */
  latencySum: number;
  /** Its maximum since the last diagnostics message (the window resets it). */
  latencyMax: number;
}

export const OK = 0;
export const WARN = 1;
export const ERROR = 2;

export function zeroCounters(): Counters {
  return { received: 0, invalid: 0, dropped: 0, results: 0, overlays: 0, banks: 0, latencySum: 0, latencyMax: 0 };
}

export interface NodeState {
  name: string;
  goal: string;
  backend: string;
  bundle: string;
  /** Why the node cannot work right now (model failed to load, inference failing), if it cannot. */
  error: string | undefined;
}

/** Turns successive counter readings into one DiagnosticStatus per period. */
export class DiagnosticsWindow {
  #last: Counters = zeroCounters();
  #lastAt: number;

  constructor(now: number) {
    this.#lastAt = now;
  }

  /** The status for the period since the previous call; resets `c.latencyMax`. */
  status(now: number, c: Counters, state: NodeState): RosDiagnosticStatus {
    const seconds = Math.max(1e-3, (now - this.#lastAt) / 1000);
    const d = (k: keyof Counters) => c[k] - this.#last[k];
    const results = d('results');
    const fps = results / seconds;
    const latencyMean = results > 0 ? d('latencySum') / results : 0;
    const values: Record<string, string> = {
      goal: state.goal,
      backend: state.backend,
      bundle: state.bundle,
      fps: fps.toFixed(2),
      input_rate_hz: (d('received') / seconds).toFixed(2),
      latency_ms_mean: latencyMean.toFixed(2),
      latency_ms_max: c.latencyMax.toFixed(2),
      reasoner_rate_hz: (d('banks') / seconds).toFixed(2),
      dropped_frames: String(c.dropped),
      dropped_frames_period: String(d('dropped')),
      invalid_messages: String(c.invalid),
      images_received: String(c.received),
      masks_published: String(c.results),
      overlays_published: String(c.overlays),
      reasoner_runs: String(c.banks),
    };
    const [level, message] =
      state.error !== undefined ? [ERROR, state.error]
      : state.goal === '' ? [WARN, 'waiting for a goal (goal topic or parameter)']
      : d('received') === 0 ? [WARN, 'no images received in the last period']
      : [OK, `segmenting at ${fps.toFixed(1)} fps`];
    this.#last = { ...c };
    this.#lastAt = now;
    c.latencyMax = 0;
    return { level, name: `anchorseg: ${state.name}`, message, hardware_id: state.backend, values: Object.entries(values).map(([key, value]) => ({ key, value })) };
  }
}
