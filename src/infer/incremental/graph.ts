import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';

type Layer = SymbolicTensor['sourceLayer'];

/**
 * What the incremental engine does with each layer of a LayersModel:
 * - `spatial`: each output reads a window of its input (convolutions, pooling, zero padding,
 *   cropping), so a change travels as a region that grows by the kernel's halo;
 * - `pointwise`: each output reads the same position of its input (activations,
 *   batch normalisation, dropout at inference);
 * - `merge`: several inputs of one spatial size, position by position (Concatenate on the
 *   channel axis, Add and the other element-wise merges);
 * - `mean`: GlobalAveragePooling2D, updated from the cached sum;
 * - `whole`: anything else (Dense, Flatten, GlobalMaxPooling2D...), run on whole tensors.
 */
export type NodeKind = 'input' | 'spatial' | 'pointwise' | 'merge' | 'mean' | 'whole';

export interface GraphNode {
  id: number;
  kind: NodeKind;
  layer: Layer;
  inputs: GraphNode[];
  /** the consumers of this node within the graph */
  uses: number;
  /** true when this node and everything it depends on is input, spatial, pointwise or merge */
  local: boolean;
  /** the output shape without the batch dimension (null where the model leaves it open) */
  shape: (number | null)[];
  /**
   * frame gates only: this node is computed from a whole-map mean and feeds channel gates
   * (squeeze-and-excitation); its value is the unoccluded frame's for every variant
   */
  frozen?: boolean;
  /** frame gates only: a Multiply of a local map by a frozen [1, 1, C] gate, run on windows */
  gate?: boolean;
}

export interface GraphPlan {
  /** nodes in an order where every node comes after its inputs; the last is the output */
  nodes: GraphNode[];
  /** the first layers that need whole tensors, e.g. "pool10 (GlobalAveragePooling2D)" */
  frontier: string[];
  /** bytes of the activations cached per frame (every local node's output), or null when the model's sizes are open */
  cacheBytes: number | null;
  /** channel gates held at the unoccluded frame's values (an approximation; see planGraph) */
  frameGates: number;
}

export interface PlanOptions {
  /**
   * Hold squeeze-and-excitation gates (a Multiply of a map by channel weights computed from
   * that map's mean) at the unoccluded frame's values for all its variants. The layers after
   * the gates then stay local and run on windows; the result is an approximation, because a
   * patch also moves the mean the gates are computed from.
   */
  frameGates?: boolean;
}

const POINTWISE = new Set([
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', 'Dropout', 'AlphaDropout',
  'GaussianNoise', 'GaussianDropout', 'SpatialDropout1D', 'Rescaling',
]);
const MERGE = new Set(['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum']);
const SPATIAL = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'MaxPooling2D', 'AveragePooling2D', 'ZeroPadding2D', 'Cropping2D']);

function channelsLast(config: Record<string, unknown>): boolean {
  return config.dataFormat === undefined || config.dataFormat === 'channelsLast';
}

function lastAxis(axis: unknown): boolean {
  const a = Array.isArray(axis) ? axis : [axis];
  return a.length === 1 && (a[0] === -1 || a[0] === 3);
}

/** The kind of one layer, by its class and configuration. */
export function kindOf(layer: Layer): NodeKind {
  const cls = layer.getClassName();
  const config = layer.getConfig() as Record<string, unknown>;
  if (cls === 'InputLayer') return 'input';
  if (SPATIAL.has(cls)) return channelsLast(config) && config.padding !== 'causal' ? 'spatial' : 'whole';
  if (POINTWISE.has(cls)) return 'pointwise';
  if (cls === 'Softmax') return lastAxis(config.axis) ? 'pointwise' : 'whole';
  if (cls === 'BatchNormalization' || cls === 'LayerNormalization') return lastAxis(config.axis) ? 'pointwise' : 'whole';
  if (MERGE.has(cls)) return 'merge';
  if (cls === 'Concatenate') return lastAxis(config.axis) ? 'merge' : 'whole';
  if (cls === 'GlobalAveragePooling2D') return channelsLast(config) ? 'mean' : 'whole';
  return 'whole';
}

/**
 * The model as a graph of layer applications, or the reason the incremental
 * engine cannot run it (the caller then uses the full engine).
 */
export function planGraph(model: LayersModel, options: PlanOptions = {}): GraphPlan | { reason: string } {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return { reason: 'the model has several inputs or outputs' };
  const byId = new Map<number, GraphNode>();
  const order: GraphNode[] = [];
  const fromMean = new Set<GraphNode>();
  // depth-first from the output, iteratively (graphs can be deep)
  const stack: { t: SymbolicTensor; expanded: boolean }[] = [{ t: model.outputs[0], expanded: false }];
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (byId.has(top.t.id)) {
      stack.pop();
      continue;
    }
    const layer = top.t.sourceLayer;
    if (!top.expanded) {
      top.expanded = true;
      if ('layers' in layer) return { reason: `layer ${layer.name} is a nested model` };
      if (top.t.outputTensorIndex) return { reason: `layer ${layer.name} has several outputs` };
      for (const i of top.t.inputs) if (!byId.has(i.id)) stack.push({ t: i, expanded: false });
      continue;
    }
    stack.pop();
    const inputs = top.t.inputs.map((i) => byId.get(i.id)!);
    const kind = kindOf(layer);
    let local = kind !== 'whole' && kind !== 'mean' && inputs.every((i) => i.local);
    const shape = top.t.shape.slice(1);
    // a value of the frame's means alone: the mean of a local map, then layers of such values
    const fromMeans = options.frameGates === true && !local && inputs.length > 0 && inputs.every((i) => (kind === 'mean' ? i.local : fromMean.has(i)));
    const gate =
      options.frameGates === true &&
      layer.getClassName() === 'Multiply' &&
      inputs.length === 2 &&
      inputs.some((i) => i.local) &&
      inputs.some((i) => fromMean.has(i) && i.shape.length === 3 && i.shape[0] === 1 && i.shape[1] === 1);
    if (gate) local = true;
    const node: GraphNode = { id: top.t.id, kind, layer, inputs, uses: 0, local, shape, ...(gate ? { gate } : {}) };
    if (fromMeans) fromMean.add(node);
    for (const i of inputs) i.uses++;
    byId.set(top.t.id, node);
    order.push(node);
  }
  // the values gates are made of are frozen; each must serve gates only (a mean that also feeds,
  // say, a classifier's pooling must change with the patch): otherwise plan without frame gates
  const gates = order.filter((n) => n.gate);
  if (gates.length) {
    const consumers = new Map<GraphNode, GraphNode[]>();
    for (const n of order) {
      for (const i of n.inputs) {
        const c = consumers.get(i);
        if (c) c.push(n);
        else consumers.set(i, [n]);
      }
    }
    const frozen = new Set<GraphNode>();
    const todo = gates.flatMap((g) => g.inputs.filter((i) => fromMean.has(i)));
    while (todo.length) {
      const n = todo.pop()!;
      if (frozen.has(n)) continue;
      frozen.add(n);
      for (const i of n.inputs) if (fromMean.has(i)) todo.push(i);
    }
    if ([...frozen].some((n) => (consumers.get(n) ?? []).some((c) => !frozen.has(c) && !c.gate))) return planGraph(model);
    for (const n of frozen) n.frozen = true;
  }
  const input = order.find((n) => n.kind === 'input');
  if (!input || input.layer !== model.inputs[0].sourceLayer) return { reason: 'the graph has no single image input' };
  const frontier = order.filter((n) => !n.local && !n.frozen && n.inputs.some((i) => i.local));
  const firstSpatial = order.some((n) => n.local && n.kind === 'spatial');
  if (!firstSpatial) {
    const f = frontier[0];
    return { reason: `no convolution or pooling comes before ${f ? `${f.layer.name} (${f.layer.getClassName()})` : 'the output'}, which needs the whole image` };
  }
  const sizes = order.filter((n) => n.local).map((n) => n.shape.reduce<number | null>((a, d) => (a === null || d === null ? null : a * d), 4));
  const cacheBytes = sizes.includes(null) ? null : (sizes as number[]).reduce((a, b) => a + b, 0);
  return { nodes: order, frontier: frontier.map((n) => `${n.layer.name} (${n.layer.getClassName()})`), cacheBytes, frameGates: gates.length };
}
