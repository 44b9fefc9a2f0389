import { onnxBackend } from './onnx.js';
import { registerBackend } from './registry.js';
import { registerTensorrt } from './tensorrt.js';

export { listBackends, registerBackend, resolveBackend, type Backend, type ChainOptions, type ChainResult, type Engine, type EngineOptions, type EngineSet, type RunOptions } from './registry.js';

// The portable default; a GPU backend registers itself with a higher priority.
registerBackend('onnx', onnxBackend, 0);
registerTensorrt(); // `tensorrt`, priority 10, only where the TensorRT provider addon is built
