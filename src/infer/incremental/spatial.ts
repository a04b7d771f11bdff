/** How the incremental engine runs a spatial layer (convolution, pooling, padding, cropping) on windows. */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from './graph.js';
import { convAxis, shiftAxis, inputWindow, type AxisOp } from './geometry.js';

type Layer = GraphNode['layer'];

/** How a spatial layer runs on windows: its axes, the value beyond the map's edge, and the layer that computes it. */
export interface SpatialRun {
  rows: AxisOp;
  cols: AxisOp;
  /** what the layer's `same` padding stands for: 0 for convolutions, -Infinity for max pooling */
  pad: number;
  /** the layer, or a `valid`-padding copy of it for windows that carry their padding explicitly; null: zero padding or cropping (a copy) */
  runner: Layer | null;
  /** average pooling with `same` padding: kernel area / in-map count, per output row and column */
  avgRows?: Float64Array;
  avgCols?: Float64Array;
}

export const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);

/** A copy of `layer` with `valid` padding and the same weights. */
function validCopy(layer: Layer, channels: number): Layer {
  const ctor = layer.constructor as unknown as { fromConfig(cls: unknown, config: object): Layer };
  const copy = ctor.fromConfig(layer.constructor, { ...layer.getConfig(), padding: 'valid', name: `${layer.name}__window` });
  copy.build([null, null, null, channels]);
  copy.setWeights(layer.getWeights()); // the layer's own tensors: shared, not copied
  return copy;
}

export function spatialRun(layer: Layer, inShape: number[], outShape: number[]): SpatialRun {
  const cls = layer.getClassName();
  const c = layer.getConfig() as Record<string, unknown>;
  const [H, W, C] = inShape.slice(1);
  let run: SpatialRun;
  if (cls === 'ZeroPadding2D' || cls === 'Cropping2D') {
    const sign = cls === 'ZeroPadding2D' ? 1 : -1;
    const [[t, b], [l, r]] = (cls === 'ZeroPadding2D' ? c.padding : c.cropping) as [[number, number], [number, number]];
    run = { rows: shiftAxis(H, sign * t, sign * b), cols: shiftAxis(W, sign * l, sign * r), pad: 0, runner: null };
  } else {
    const pooling = cls.endsWith('Pooling2D');
    const [kh, kw] = pair(pooling ? c.poolSize : c.kernelSize);
    const [sh, sw] = pair(c.strides ?? (pooling ? c.poolSize : 1));
    const [dh, dw] = pooling ? [1, 1] : pair(c.dilationRate ?? 1);
    const padding = c.padding as 'same' | 'valid';
    run = {
      rows: convAxis(H, kh, sh, dh, padding),
      cols: convAxis(W, kw, sw, dw, padding),
      pad: cls === 'MaxPooling2D' ? -Infinity : 0,
      runner: padding === 'same' ? validCopy(layer, C) : layer,
    };
    if (cls === 'AveragePooling2D' && padding === 'same') {
      run.avgRows = areaFactors(run.rows);
      run.avgCols = areaFactors(run.cols);
    }
  }
  if (run.rows.outSize !== outShape[1] || run.cols.outSize !== outShape[2]) {
    throw new Error(`incremental engine: ${layer.name} (${cls}) gives ${outShape[1]}x${outShape[2]}, expected ${run.rows.outSize}x${run.cols.outSize}`);
  }
  return run;
}

/** kernel / (inputs inside the map) for each output of a `same` average pooling axis. */
function areaFactors(op: AxisOp): Float64Array {
  const out = new Float64Array(op.outSize);
  for (let o = 0; o < op.outSize; o++) {
    const [lo, hi] = inputWindow(op, o, 1);
    out[o] = op.kernel / (Math.min(hi, op.inSize) - Math.max(lo, 0));
  }
  return out;
}

export function output(layer: Layer, inputs: tf.Tensor[], index: number): tf.Tensor {
  const y = layer.apply(inputs.length === 1 ? inputs[0] : inputs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(y) ? y[index] : y;
}

export function scaleAverage(data: Float32Array, count: number, top: Int32Array, left: Int32Array, h: number, w: number, C: number, rows: Float64Array, cols: Float64Array): void {
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < h; i++) {
      const fy = rows[top[b] + i];
      for (let j = 0; j < w; j++) {
        const f = fy * cols[left[b] + j];
        if (f === 1) continue;
        const o = ((b * h + i) * w + j) * C;
        for (let k = 0; k < C; k++) data[o + k] *= f;
      }
    }
  }
}
