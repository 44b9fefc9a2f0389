/** The node's health as diagnostic_msgs/DiagnosticStatus: rates over the last period, totals, state. */
import type { StreamCounters } from '../sdk/stream/stream.js';
import type { RosDiagnosticStatus } from './types.js';

/** Running totals: the stream host's counters (the names used everywhere), and what only the node knows. */
export interface Counters extends StreamCounters {
  /** Overlays published (only while the overlay topic has subscribers). */
  overlays: number;
  /** Sum of image-arrival-to-result latency over published masks (ms). */
  latencySum: number;
  /** Its maximum since the last diagnostics message. */
  latencyMax: number;
}

export const OK = 0;
export const WARN = 1;
export const ERROR = 2;

export interface NodeState {
  name: string;
  goal: string;
  backend: string;
  bundle: string;
  /** Why the node cannot work right now (model failed to load, inference failing), if it cannot. */
  error: string | undefined;
  /** The error code of the last image refused, if any was. */
  lastInvalid: string | undefined;
}

type Rated = 'received' | 'invalid' | 'dropped' | 'results' | 'banks' | 'latencySum';

/** Turns successive counter readings into one DiagnosticStatus per period. */
export class DiagnosticsWindow {
  #last: Record<Rated, number> = { received: 0, invalid: 0, dropped: 0, results: 0, banks: 0, latencySum: 0 };
  #lastAt: number;

  constructor(now: number) {
    this.#lastAt = now;
  }

  /** The status for the period since the previous call (`c.latencyMax` is that period's maximum). */
  status(now: number, c: Counters, state: NodeState): RosDiagnosticStatus {
    const seconds = Math.max(1e-3, (now - this.#lastAt) / 1000);
    const d = (k: Rated) => c[k] - this.#last[k];
    const results = d('results');
    const invalid = d('invalid');
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
      dropped_period: String(d('dropped')),
      invalid_period: String(invalid),
      // Totals, by the counter names of the stream host (ZeroMQ status, results.jsonl, docs/streaming.md).
      received: String(c.received),
      invalid: String(c.invalid),
      dropped: String(c.dropped),
      results: String(c.results),
      failures: String(c.failures),
      banks: String(c.banks),
      overlays: String(c.overlays),
    };
    // Refused images count as received: without their own case a camera sending nothing
    // usable would read OK ("segmenting at 0.0 fps").
    const [level, message] =
      state.error !== undefined
        ? [ERROR, state.error]
        : invalid > 0
          ? [WARN, `${invalid} invalid images in the last period (last refused with ${state.lastInvalid ?? 'an unknown error'})`]
          : state.goal === ''
            ? [WARN, 'waiting for a goal (goal topic or parameter)']
            : d('received') === 0
              ? [WARN, 'no images received in the last period']
              : [OK, `segmenting at ${fps.toFixed(1)} fps`];
    this.#last = { received: c.received, invalid: c.invalid, dropped: c.dropped, results: c.results, banks: c.banks, latencySum: c.latencySum };
    this.#lastAt = now;
    return { level, name: `anchorseg: ${state.name}`, message, hardware_id: state.backend, values: Object.entries(values).map(([key, value]) => ({ key, value })) };
  }
}
