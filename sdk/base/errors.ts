/** Every error a caller can cause carries a stable string `code` (zeromq.js / Node style). */
export type ErrorCode =
  | 'ERR_INVALID_ARG'
  | 'ERR_FRAME_INVALID'
  | 'ERR_GOAL_EMPTY'
  | 'ERR_GOAL_TOO_LONG'
  | 'ERR_GOAL_INVALID'
  | 'ERR_BUNDLE_NOT_FOUND'
  | 'ERR_BUNDLE_INVALID'
  | 'ERR_BUNDLE_VERSION'
  | 'ERR_BUNDLE_PATH'
  | 'ERR_BUNDLE_FILE_MISSING'
  | 'ERR_BUNDLE_HASH'
  | 'ERR_BUNDLE_MISMATCH'
  | 'ERR_BUNDLE_SIGNATURE'
  | 'ERR_BACKEND_UNAVAILABLE'
  | 'ERR_INFERENCE'
  | 'ERR_BUSY'
  | 'ERR_DISPOSED'
  | 'ERR_ABORTED'
  | 'ERR_NATIVE_UNAVAILABLE'
  | 'ERR_PROTOCOL'
  | 'ERR_TIMEOUT'
  | 'ERR_INTERNAL'
  | 'ERR_DATA_INVALID'
  | 'ERR_TOOL_MISSING'
  | 'ERR_SOURCE_FAILED';

export class AnchorSegError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AnchorSegError';
    this.code = code;
  }
}

/** Describes a received value the way sharp's messages do: `-3 of type number`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `${JSON.stringify(shown)} of type string (length ${value.length})`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)} of type ${typeof value}`;
  }
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${value.byteLength} bytes`;
  if (Array.isArray(value)) return `array of length ${value.length}`;
  return `value of type ${typeof value}`;
}

/** `Expected <what> for <name> but received <value>`: the one message shape for bad arguments. */
export function invalidArg(name: string, expected: string, received: unknown, code: ErrorCode = 'ERR_INVALID_ARG'): AnchorSegError {
  return new AnchorSegError(code, `Expected ${expected} for ${name} but received ${describe(received)}`);
}

export function disposedError(what: string): AnchorSegError {
  return new AnchorSegError('ERR_DISPOSED', `${what} is closed`);
}

export function abortError(signal: AbortSignal): AnchorSegError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new AnchorSegError('ERR_ABORTED', `Operation aborted: ${reason}`, { cause: signal.reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}
