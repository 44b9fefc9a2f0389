import type { Stamp } from '../base/frame.js';
import type { Tensor } from '../backends/tensor.js';
import type { Letterbox } from '../kernels/index.js';
import type { Goal } from './tokenizer.js';

export interface CallOptions {
  signal?: AbortSignal;
}

/** What the vision stage made of one frame; feed it to `reason()` and `decode()` (advanced API). */
export interface ImageState {
  readonly width: number;
  readonly height: number;
  readonly stamp?: Stamp;
  readonly frameId?: string;
  /** Vision outputs, plus preprocessed images that later engines read. */
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** Per image input: where the frame's content sits in it. */
  readonly letterboxes: ReadonlyMap<string, Letterbox>;
  readonly timings: { readonly preprocess: number; readonly vision: number };
}

/** The reasoner's output for one goal (K latent tokens + the anchor); reusable across frames (advanced API). */
export interface QueryBank {
  readonly goal: Goal;
  /** `Date.now()` when it was made: callers decide when a bank is too old. */
  readonly createdAt: number;
  /** Reasoner outputs and the goal tensors. */
  readonly tensors: ReadonlyMap<string, Tensor>;
  readonly timings: { readonly reasoner: number };
}
