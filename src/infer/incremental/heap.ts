import * as tf from '@tensorflow/tfjs-core';

/**
 * Moving window data in and out of tensors without copies where the backend allows.
 * The wasm backend keeps every tensor in its WebAssembly memory and its own kernels read
 * and write it in place (`typedArrayFromHeap`, `makeOutput`); the windows the incremental
 * engine gathers go the same way, instead of a read-out copy, a JS array and a copy back in
 * for every layer and batch. Other backends (cpu, tensorflow) go through JS arrays.
 */
interface WasmBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

function wasmBackend(): WasmBackend | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as Partial<WasmBackend>;
  return typeof b.typedArrayFromHeap === 'function' && typeof b.makeOutput === 'function' ? (b as WasmBackend) : null;
}

/**
 * A tensor's values. On wasm this is a view of the backend's memory, valid only until the
 * next tensor is made (memory may grow and move): read it at once, never keep it.
 */
export function peek(t: tf.Tensor): Float32Array {
  const wasm = wasmBackend();
  return wasm ? wasm.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

/**
 * A new float32 tensor whose values `fill` writes (on wasm straight into the tensor's
 * memory; `fill` may peek at other tensors but must not make any).
 */
export function build(shape: number[], fill: (out: Float32Array) => void): tf.Tensor {
  const wasm = wasmBackend();
  if (!wasm) {
    const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fill(out);
    return tf.tensor(out, shape);
  }
  const info = wasm.makeOutput(shape, 'float32');
  fill(wasm.typedArrayFromHeap(info));
  return tf.engine().makeTensorFromTensorInfo(info);
}
