/**
 * How a change to a range of input positions travels through one spatial layer,
 * along one axis. A layer output `o` reads the inputs `o*stride - pad + j*dilation`
 * for j in [0, kernel): convolutions and pooling with `same` or `valid` padding,
 * zero padding (kernel 1, pad = the padding before) and cropping (pad < 0) all fit.
 */
export interface AxisOp {
  kernel: number;
  stride: number;
  dilation: number;
  /** implicit positions before the input (TF `same` padding, ZeroPadding2D); negative for a crop */
  pad: number;
  inSize: number;
  outSize: number;
}

/** An axis of a convolution or pooling in TensorFlow's `same` or `valid` mode. */
export function convAxis(inSize: number, kernel: number, stride: number, dilation: number, padding: 'same' | 'valid'): AxisOp {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'valid') {
    const outSize = Math.floor((inSize - span) / stride) + 1;
    return { kernel, stride, dilation, pad: 0, inSize, outSize };
  }
  const outSize = Math.ceil(inSize / stride);
  const total = Math.max((outSize - 1) * stride + span - inSize, 0);
  return { kernel, stride, dilation, pad: Math.floor(total / 2), inSize, outSize };
}

/** ZeroPadding2D (before, after > 0) or Cropping2D (before, after < 0) along one axis. */
export function shiftAxis(inSize: number, before: number, after: number): AxisOp {
  return { kernel: 1, stride: 1, dilation: 1, pad: before, inSize, outSize: inSize + before + after };
}

/** A half-open range [lo, hi); empty when hi <= lo. */
export type Range = [number, number];

/** The outputs that read any input in [lo, hi), clipped to the output (empty when none does). */
export function outputRange(op: AxisOp, lo: number, hi: number): Range {
  if (hi <= lo) return [0, 0];
  const reach = (op.kernel - 1) * op.dilation;
  const from = Math.max(0, Math.ceil((lo + op.pad - reach) / op.stride));
  const to = Math.min(op.outSize, Math.floor((hi - 1 + op.pad) / op.stride) + 1);
  return to > from ? [from, to] : [0, 0];
}

/** The inputs that `count` outputs from `start` read (may run past the input's edges, into the padding). */
export function inputWindow(op: AxisOp, start: number, count: number): Range {
  const lo = start * op.stride - op.pad;
  return [lo, lo + (count - 1) * op.stride + (op.kernel - 1) * op.dilation + 1];
}

/**
 * A window of fixed `size` that holds [lo, hi) and lies inside [0, extent): the
 * windows of a batch share one size so that a layer runs as one op on all of them.
 */
export function placeWindow(lo: number, hi: number, size: number, extent: number): number {
  if (hi <= lo) return 0;
  return Math.max(0, Math.min(lo, extent - size));
}
