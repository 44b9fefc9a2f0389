import { onnxBackend } from './onnx.js';
import { registerBackend } from './registry.js';

export { listBackends, registerBackend, resolveBackend, type Backend, type Engine, type EngineOptions, type RunOptions } from './registry.js';

// The portable default; a GPU backend registers itself with a higher priority.
registerBackend('onnx', onnxBackend, 0);
