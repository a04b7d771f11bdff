/** The windows of one layer's output as the incremental engine passes them from layer to layer. */
import * as tf from '@tensorflow/tfjs-core';
import { concatChannels, type Windows } from './windows.js';
import { build, peek } from './heap.js';

/** One input of a channel concatenation: its windows, and its channels [from, to) in the whole. */
export interface Part {
  act: Act;
  from: number;
  to: number;
}

/**
 * Run `fn` in a tensor scope: what it makes is released at the end, except a returned tensor and
 * tensors kept by Acts. (Acts are told apart first: `instanceof tf.Tensor` reads a `data` property.)
 */
export function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  let result: T | undefined;
  try {
    result = fn();
    return result;
  } finally {
    tf.engine().endScope(result instanceof Act || !(result instanceof tf.Tensor) ? undefined : result);
  }
}

/**
 * The windows of one layer's output for a batch. Their values live in a tensor
 * (as a layer gives them), in a JS array (as windows are gathered), or both: each
 * side is made from the other only when needed, so that chains of layers whose
 * windows line up (1x1 convolutions, activations, concatenations) never leave the backend.
 */
export class Act implements Windows {
  private values: Float32Array | null;
  private t: tf.Tensor4D | null;
  /** a channel concatenation kept as its parts (same windows), until a consumer needs it whole */
  readonly parts: Part[] | null;

  constructor(
    readonly count: number,
    readonly height: number,
    readonly width: number,
    readonly channels: number,
    readonly top: Int32Array,
    readonly left: Int32Array,
    region: Pick<Windows, 'top0' | 'top1' | 'left0' | 'left1'>,
    values: Float32Array | tf.Tensor | Part[],
  ) {
    this.top0 = region.top0;
    this.top1 = region.top1;
    this.left0 = region.left0;
    this.left1 = region.left1;
    this.parts = Array.isArray(values) ? values : null;
    this.values = values instanceof Float32Array ? values : null;
    // the Act owns its tensor: kept out of the tidy scope it was made in, released by dispose()
    this.t = values instanceof Float32Array || Array.isArray(values) ? null : tf.keep(values as tf.Tensor4D);
  }

  readonly top0: Int32Array;
  readonly top1: Int32Array;
  readonly left0: Int32Array;
  readonly left1: Int32Array;

  static of(w: Windows): Act {
    return w instanceof Act ? w : new Act(w.count, w.height, w.width, w.channels, w.top, w.left, w, w.data);
  }

  /** The values (on wasm a view of the tensor's memory: read at once, never keep it) */
  get data(): Float32Array {
    if (this.values) return this.values;
    // parts are joined before any windows are made from this Act (making a tensor would move memory under a view)
    if (!this.t) throw new Error('incremental engine: a concatenation read before it was joined');
    return peek(this.t);
  }

  get tensor(): tf.Tensor4D {
    if (!this.t && this.parts) {
      const parts = this.parts.map((p) => p.act.tensor);
      const channels = this.parts.map((p) => p.act.channels);
      this.t = tf.keep(build([this.count, this.height, this.width, this.channels], (out) => concatChannels(parts.map(peek), channels, this.count * this.height * this.width, out)) as tf.Tensor4D);
    }
    this.t ??= tf.keep(tf.tensor4d(this.values!, [this.count, this.height, this.width, this.channels]));
    return this.t;
  }

  dispose(): void {
    this.t?.dispose();
    this.t = null;
    this.values = null;
    for (const p of this.parts ?? []) p.act.dispose();
  }
}
