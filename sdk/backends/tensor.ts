import { halfToFloat } from '../kernels/index.js';

/** Element types the bundle format names (ONNX Runtime's spelling). */
export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';
export const DTYPES: readonly DType[] = ['float32', 'float16', 'int64', 'int32', 'uint8', 'bool'];

/** float16 travels as raw IEEE half bits (Node 20 has no Float16Array). */
export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** A plain, backend-neutral tensor: what crosses the worker boundary and the backend contract. */
export interface Tensor {
  dtype: DType;
  dims: number[];
  data: TensorData;
}

/** A dimension is a fixed size or the name of a dynamic one (`"T"`). */
export type Dim = number | string;

/** Name, element type and shape of an engine input or output (manifest and session metadata alike). */
export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

/** Reads a float32 or float16 tensor as float32 values (postprocessing works in float32/64). */
export function toFloat32(t: Tensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.dtype === 'float16' && t.data instanceof Uint16Array) {
    const out = new Float32Array(t.data.length);
    for (let i = 0; i < out.length; i++) out[i] = halfToFloat(t.data[i]);
    return out;
  }
  throw new TypeError(`Expected a float32 or float16 tensor but received ${t.dtype}`);
}
