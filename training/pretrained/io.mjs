// Files the training scripts share: TF.js model artifacts from a model.json, and uint8 NHWC .npy caches
// (training/data.py writes them beside the generated frames).
import { openSync, readSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The artifacts loadGraphModel / loadLayersModel take, from a parsed model.json (edited or not) and its folder. */
export function artifacts(j, dir) {
  const b = Buffer.concat(j.weightsManifest.flatMap((m) => m.paths).map((p) => readFileSync(join(dir, p))));
  return { modelTopology: j.modelTopology, format: j.format, weightSpecs: j.weightsManifest.flatMap((m) => m.weights),
    weightData: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) };
}

/** A uint8 [N, H, W, C] .npy cache: its shape, and `read(row, count, buf)` copying rows into buf. */
export function openNpy(path) {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(256);
  readSync(fd, head, 0, 256, 0);
  const hlen = head.readUInt16LE(8);
  const text = head.toString('latin1', 10, 10 + hlen);
  const shape = /'shape': \((\d+), (\d+), (\d+), (\d+)\)/.exec(text);
  if (!text.includes("'|u1'") || !shape) throw new Error(`${path}: not a uint8 NHWC .npy`);
  const [N, H, W, C] = shape.slice(1).map(Number);
  const frame = H * W * C;
  return { N, H, W, C, frame, read: (row, count, buf) => readSync(fd, buf, 0, frame * count, 10 + hlen + row * frame) };
}
