import * as tf from '@tensorflow/tfjs-core';
import type { GraphNode, GraphPlan } from './graph.js';
import { outputRange, inputWindow, placeWindow } from './geometry.js';
import { gather, materialize, samePlacement, regionsOf, type Cached, type Placement, type Windows } from './windows.js';
import { build } from './heap.js';
import { Act, PARTWISE, output, scoped, type Part } from './act.js';
import { spatialRun, scaleAverage, pair, type SpatialRun } from './spatial.js';

/**
 * Runs a LayersModel on occluded variants of one frame by recomputing, layer by
 * layer, only the region each variant changes. `setFrame` runs the unoccluded
 * frame once and caches every spatial activation; `run` takes the changed input
 * windows of a batch and returns the model's outputs, the same numbers a full
 * forward pass gives (up to float rounding: the sums run in the same order).
 * `act.ts` holds the windows of one layer for a batch, `spatial.ts` how a
 * convolution or pooling runs on windows, `geometry.ts` the regions' arithmetic.
 */
export class IncrementalModel {
  private caches = new Map<GraphNode, Cached>();
  private runs = new Map<GraphNode, SpatialRun>();
  /** GlobalAveragePooling2D of a local input: the cached per-channel sum over the map */
  private sums = new Map<GraphNode, Float64Array>();
  /** channel ranges of cached activations, for concatenations kept in parts (per frame) */
  private slices = new Map<string, Cached>();
  /** kernel slices of convolutions run on concatenations kept in parts */
  private kernelParts = new Map<string, tf.Tensor4D[]>();
  /** frame gates: the unoccluded frame's value of each frozen node (the gates and what they are made of) */
  private frozen = new Map<GraphNode, tf.Tensor>();
  private inputShape: number[] = [];
  baseOutput: Float32Array = new Float32Array(0);
  /** when set, milliseconds spent in each layer are added up here (the bench's per-layer split) */
  profile: Map<string, number> | null = null;
  /** when set, called with each local layer's windows and its map size (docs/incremental-regions.png is drawn from it) */
  trace: ((layer: string, windows: Windows, map: { height: number; width: number }) => void) | null = null;
  /** bytes held by the caches of the current frame */
  cacheBytes = 0;

  constructor(private readonly plan: GraphPlan) {}

  /** Run the unoccluded model input (height x width x channels) and keep what the variants reuse. */
  setFrame(input: Float32Array, shape: [number, number, number]): void {
    const nodes = this.plan.nodes;
    const reshape = shape.join() !== this.inputShape.join();
    if (reshape) this.disposeRuns();
    this.caches.clear();
    this.sums.clear();
    this.slices.clear();
    this.disposeFrozen();
    this.cacheBytes = 0;
    const values = new Map<GraphNode, tf.Tensor>();
    try {
      for (const node of nodes) {
        const t =
          node.kind === 'input'
            ? tf.tensor4d(input, [1, ...shape])
            : tf.tidy(() => output(node.layer, node.inputs.map((i) => values.get(i)!)));
        values.set(node, t);
        if (node.frozen) this.frozen.set(node, tf.keep(tf.clone(t)));
        if (node.local) {
          const [, h, w, c] = t.shape;
          const data = t.dataSync() as Float32Array;
          this.caches.set(node, { data, height: h, width: w, channels: c });
          this.cacheBytes += data.byteLength;
          if (reshape && node.kind === 'spatial') this.runs.set(node, spatialRun(node.layer, node.inputs[0] ? values.get(node.inputs[0])!.shape : [], t.shape));
        }
        if (node.kind === 'mean' && node.inputs[0].local && t.rank === 2) {
          const c = this.caches.get(node.inputs[0])!;
          const sum = new Float64Array(c.channels);
          for (let i = 0; i < c.data.length; i++) sum[i % c.channels] += c.data[i];
          this.sums.set(node, sum);
        }
      }
      this.baseOutput = values.get(nodes[nodes.length - 1])!.dataSync() as Float32Array;
      this.inputShape = shape;
    } finally {
      tf.dispose([...values.values()]);
    }
  }

  /** The model's outputs for a batch of variants, given their changed input windows. */
  run(input: Windows): Float32Array {
    // each layer's output is released as soon as its last consumer has run, so that memory holds
    // a few layers' windows at a time, not the whole network's
    const states = new Map<GraphNode, Act | tf.Tensor>();
    const left = new Map<GraphNode, number>();
    const release = (s: Act | tf.Tensor) => s.dispose();
    let last: Act | tf.Tensor | null = null;
    try {
      for (const node of this.plan.nodes) {
        const t0 = this.profile ? performance.now() : 0;
        const ins = node.inputs.map((i) => states.get(i)!);
        const out = node.kind === 'input' ? Act.of(input) : node.frozen ? tf.clone(this.frozen.get(node)!) : scoped(() => this.step(node, ins));
        last = out;
        if (this.profile) {
          if (out instanceof Act) void out.tensor;
          else out.dataSync(); // the backend may run lazily: charge the layer its own time
          this.profile.set(node.layer.name, (this.profile.get(node.layer.name) ?? 0) + performance.now() - t0);
        }
        if (this.trace && out instanceof Act) this.trace(node.layer.name, out, this.caches.get(node)!);
        states.set(node, out);
        left.set(node, node.uses);
        for (const i of node.inputs) {
          const n = left.get(i)! - 1;
          left.set(i, n);
          if (n === 0) {
            release(states.get(i)!);
            states.delete(i);
          }
        }
      }
      const final = last!;
      if (!(final instanceof Act)) return final.dataSync() as Float32Array;
      const t = this.whole(this.plan.nodes[this.plan.nodes.length - 1], final);
      try {
        return t.dataSync() as Float32Array;
      } finally {
        t.dispose();
      }
    } finally {
      for (const s of states.values()) release(s);
    }
  }

  private step(node: GraphNode, ins: (Act | tf.Tensor)[]): Act | tf.Tensor {
    if (node.local) {
      if (node.gate) return this.gate(node, ins);
      if (node.kind === 'spatial') return this.spatial(node, ins[0] as Act);
      if (node.kind === 'pointwise') return this.pointwise(node, ins[0] as Act);
      return this.merge(node, ins as Act[]);
    }
    if (node.kind === 'mean' && this.sums.has(node)) return this.mean(node, ins[0] as Act);
    const tensors = ins.map((s, k) => (s instanceof Act ? this.whole(node.inputs[k], s) : s));
    return output(node.layer, tensors);
  }

  /** The whole activation of each variant, as one tensor. */
  private whole(node: GraphNode, w: Windows): tf.Tensor {
    if (w instanceof Act) void w.tensor; // join a concatenation in parts first
    const c = this.caches.get(node)!;
    return build([w.count, c.height, c.width, c.channels], (out) => materialize(c, w, out));
  }

  private spatial(node: GraphNode, src: Act): Act {
    const run = this.runs.get(node)!;
    const count = src.count;
    const region = regionsOf(count);
    let h = 1;
    let w = 1;
    for (let b = 0; b < count; b++) {
      [region.top0[b], region.top1[b]] = outputRange(run.rows, src.top0[b], src.top1[b]);
      [region.left0[b], region.left1[b]] = outputRange(run.cols, src.left0[b], src.left1[b]);
      h = Math.max(h, region.top1[b] - region.top0[b]);
      w = Math.max(w, region.left1[b] - region.left0[b]);
    }
    const top = new Int32Array(count);
    const left = new Int32Array(count);
    const [r0, r1] = inputWindow(run.rows, 0, h);
    const [c0, c1] = inputWindow(run.cols, 0, w);
    const need: Placement = { height: r1 - r0, width: c1 - c0, top: new Int32Array(count), left: new Int32Array(count) };
    for (let b = 0; b < count; b++) {
      top[b] = placeWindow(region.top0[b], region.top1[b], h, run.rows.outSize);
      left[b] = placeWindow(region.left0[b], region.left1[b], w, run.cols.outSize);
      need.top[b] = inputWindow(run.rows, top[b], h)[0];
      need.left[b] = inputWindow(run.cols, left[b], w)[0];
    }
    const cls = node.layer.getClassName();
    if (src.parts && PARTWISE.has(cls) && !run.avgRows) {
      // pooling, padding and cropping work channel by channel: run them on each part of a concatenation
      const parts = src.parts.map((p) => {
        const x = this.windowsOf(node.inputs[0], p.act, need, run.pad, p);
        const y = run.runner ? (output(run.runner, [x]) as tf.Tensor4D) : x === p.act.tensor ? tf.clone(x) : x;
        return { act: new Act(count, h, w, y.shape[3], top, left, region, y), from: p.from, to: p.to };
      });
      return new Act(count, h, w, src.channels, top, left, region, parts);
    }
    if (src.parts && cls === 'Conv2D') {
      const y = this.splitConv(node, src.parts, need, run.pad);
      return new Act(count, h, w, y.shape[3], top, left, region, y);
    }
    const x = this.windowsOf(node.inputs[0], src, need, run.pad);
    if (!run.runner) return new Act(count, h, w, x.shape[3], top, left, region, x === src.tensor ? tf.clone(x) : x);
    const y = output(run.runner, [x]) as tf.Tensor4D;
    if (y.shape[1] !== h || y.shape[2] !== w) throw new Error(`incremental engine: ${node.layer.name} gave ${y.shape[1]}x${y.shape[2]} windows, expected ${h}x${w}`);
    const channels = y.shape[3];
    if (!run.avgRows) return new Act(count, h, w, channels, top, left, region, y);
    const data = Float32Array.from(y.dataSync() as Float32Array);
    scaleAverage(data, count, top, left, h, w, channels, run.avgRows, run.avgCols!);
    return new Act(count, h, w, channels, top, left, region, data);
  }

  /**
   * The windows `need` of a node's activation for every variant, as a tensor: `src` itself when its
   * windows already match. With `part`, `src` holds only those channels of the node's activation.
   */
  private windowsOf(node: GraphNode, src: Act, need: Placement, pad: number, part?: Part): tf.Tensor4D {
    if (samePlacement(src, need)) return src.tensor;
    void src.tensor; // a concatenation in parts is joined now, before the gather's tensor is made
    const cache = part ? this.channelsOf(node, part.from, part.to) : this.caches.get(node)!;
    return build([src.count, need.height, need.width, src.channels], (out) => gather(cache, need, pad, src, out)) as tf.Tensor4D;
  }

  /** Channels [from, to) of a node's cached activation (made once per frame). */
  private channelsOf(node: GraphNode, from: number, to: number): Cached {
    const key = `${node.id}:${from}:${to}`;
    let c = this.slices.get(key);
    if (!c) {
      const whole = this.caches.get(node)!;
      const n = to - from;
      const pixels = whole.height * whole.width;
      const data = new Float32Array(pixels * n);
      for (let i = 0; i < pixels; i++) data.set(whole.data.subarray(i * whole.channels + from, i * whole.channels + to), i * n);
      c = { data, height: whole.height, width: whole.width, channels: n };
      this.slices.set(key, c);
    }
    return c;
  }

  /**
   * A Conv2D on a concatenation kept in parts: the sum of one convolution per part with its
   * slice of the kernel (the same products; only the order of the sum changes), then bias and activation.
   */
  private splitConv(node: GraphNode, parts: Part[], need: Placement, pad: number): tf.Tensor4D {
    const layer = node.layer;
    const c = layer.getConfig() as Record<string, unknown>;
    const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
    const key = `${node.id}:${parts.map((p) => p.from).join(',')}`;
    let kernels = this.kernelParts.get(key);
    if (!kernels) {
      kernels = parts.map((p) => tf.keep(tf.slice(kernel, [0, 0, p.from, 0], [kernel.shape[0], kernel.shape[1], p.to - p.from, kernel.shape[3]])) as tf.Tensor4D);
      this.kernelParts.set(key, kernels);
    }
    const strides = pair(c.strides ?? 1);
    const dilations = pair(c.dilationRate ?? 1);
    const sums = parts.map((p, k) => tf.conv2d(this.windowsOf(node.inputs[0], p.act, need, pad, p), kernels![k], strides, 'valid', 'NHWC', dilations));
    let z = tf.addN(sums);
    if (c.useBias !== false && bias) z = tf.add(z, bias);
    const activation = (layer as unknown as { activation?: { apply(x: tf.Tensor): tf.Tensor } }).activation;
    return (activation ? activation.apply(z) : z) as tf.Tensor4D;
  }

  private pointwise(node: GraphNode, src: Act): Act {
    if (src.parts && PARTWISE.has(node.layer.getClassName())) {
      const parts = src.parts.map((p) => ({ ...p, act: this.pointwise(node, p.act) }));
      return new Act(src.count, src.height, src.width, src.channels, src.top, src.left, src, parts);
    }
    const y = output(node.layer, [src.tensor]) as tf.Tensor4D;
    return new Act(src.count, src.height, src.width, y.shape[3], src.top, src.left, src, y);
  }

  /** Concatenate (channels) or an element-wise merge: the windows cover the union of the inputs' changes. */
  private merge(node: GraphNode, srcs: Act[]): Act {
    const count = srcs[0].count;
    const { height: H, width: W } = this.caches.get(node)!;
    const region = regionsOf(count);
    let h = 1;
    let w = 1;
    for (let b = 0; b < count; b++) {
      let t0 = Infinity, t1 = -Infinity, l0 = Infinity, l1 = -Infinity;
      for (const s of srcs) {
        if (s.top1[b] <= s.top0[b] || s.left1[b] <= s.left0[b]) continue;
        t0 = Math.min(t0, s.top0[b]);
        t1 = Math.max(t1, s.top1[b]);
        l0 = Math.min(l0, s.left0[b]);
        l1 = Math.max(l1, s.left1[b]);
      }
      if (t1 > t0) [region.top0[b], region.top1[b], region.left0[b], region.left1[b]] = [t0, t1, l0, l1];
      h = Math.max(h, region.top1[b] - region.top0[b]);
      w = Math.max(w, region.left1[b] - region.left0[b]);
    }
    const p: Placement = { height: h, width: w, top: new Int32Array(count), left: new Int32Array(count) };
    for (let b = 0; b < count; b++) {
      p.top[b] = placeWindow(region.top0[b], region.top1[b], h, H);
      p.left[b] = placeWindow(region.left0[b], region.left1[b], w, W);
    }
    const windows = srcs.map((s, k) => this.windowsOf(node.inputs[k], s, p, 0));
    if (node.layer.getClassName() === 'Concatenate') {
      // kept as its parts: a convolution or pooling next runs on them without the copy into one tensor
      let from = 0;
      const parts = windows.map((x, k) => {
        const part = { act: new Act(count, h, w, srcs[k].channels, p.top, p.left, region, x === srcs[k].tensor ? tf.clone(x) : x), from, to: from + srcs[k].channels };
        from = part.to;
        return part;
      });
      return new Act(count, h, w, from, p.top, p.left, region, parts);
    }
    const y = output(node.layer, windows) as tf.Tensor4D;
    return new Act(count, h, w, y.shape[3], p.top, p.left, region, y);
  }

  /** Frame gates: a local map's windows times the unoccluded frame's channel gates ([1, 1, 1, C], broadcast). */
  private gate(node: GraphNode, ins: (Act | tf.Tensor)[]): Act {
    const k = node.inputs.findIndex((i) => i.local);
    const x = ins[k] as Act;
    const y = tf.mul(x.tensor, ins[1 - k] as tf.Tensor) as tf.Tensor4D;
    return new Act(x.count, x.height, x.width, y.shape[3], x.top, x.left, x, y);
  }

  private disposeFrozen(): void {
    tf.dispose([...this.frozen.values()]);
    this.frozen.clear();
  }

  /** GlobalAveragePooling2D: the cached sum, minus the cached values of each variant's changed region, plus its new ones. */
  private mean(node: GraphNode, src: Act): tf.Tensor {
    const c = this.caches.get(node.inputs[0])!;
    const C = c.channels;
    const sum = this.sums.get(node)!;
    const out = new Float32Array(src.count * C);
    const acc = new Float64Array(C);
    void src.tensor;
    const data = src.data;
    for (let b = 0; b < src.count; b++) {
      acc.set(sum);
      for (let y = src.top0[b]; y < src.top1[b]; y++) {
        for (let x = src.left0[b]; x < src.left1[b]; x++) {
          const ci = (y * c.width + x) * C;
          const wi = (b * src.height * src.width + (y - src.top[b]) * src.width + (x - src.left[b])) * C;
          for (let k = 0; k < C; k++) acc[k] += data[wi + k] - c.data[ci + k];
        }
      }
      for (let k = 0; k < C; k++) out[b * C + k] = acc[k] / (c.height * c.width);
    }
    return tf.tensor2d(out, [src.count, C]);
  }

  private disposeRuns(): void {
    // a copy was never called on symbolic inputs, so Layer.dispose() refuses it: release its variables (the
    // weights they share with the model's own stay alive, counted by the model's variables)
    for (const [node, run] of this.runs) if (run.runner && run.runner !== node.layer) for (const w of run.runner.weights) w.dispose();
    this.runs.clear();
    for (const k of this.kernelParts.values()) tf.dispose(k);
    this.kernelParts.clear();
  }

  dispose(): void {
    this.disposeRuns();
    this.disposeFrozen();
    this.caches.clear();
    this.sums.clear();
    this.slices.clear();
  }
}

