#!/usr/bin/env node
// A copy of a fit-"width" LayersModel whose input width is free too ([null, null, null, 3]) and whose
// occlude.json sets input.maxWidth: a frame wider than the model's width then keeps its own width up
// to maxWidth (docs/models.md). The weights are copied unchanged. For measuring a model at a higher
// input size (training/README.md, "Resolution"); `occlude --input-max-width W` then overrides maxWidth.
// --choose-scale LABEL also sets input.chooseScale: a wider frame is scored at both widths, and the one
// where LABEL is less probable is used.
//
//   node training/free_width.mjs SRC DST [--max-width 910] [--choose-scale none]
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function freeWidthCopy(src, dst, maxWidth, chooseScale = null) {
  const model = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8'));
  const topology = model.modelTopology;
  const layers = (topology.model_config ?? topology).config.layers;
  const inputs = layers.filter((l) => l.class_name === 'InputLayer');
  if (model.format !== 'layers-model' || inputs.length !== 1) throw new Error(`${src}: not a LayersModel with one input`);
  const shape = inputs[0].config.batch_input_shape;
  if (shape.length !== 4 || shape[1] !== null) throw new Error(`${src}: the input height is not free (shape ${JSON.stringify(shape)}): not a fit "width" model`);
  inputs[0].config.batch_input_shape = [shape[0], null, null, shape[3]];
  const meta = JSON.parse(readFileSync(join(src, 'occlude.json'), 'utf8'));
  if (meta.input?.fit !== 'width') throw new Error(`${src}: occlude.json does not say fit "width"`);
  meta.input.maxWidth = maxWidth;
  if (chooseScale !== null) meta.input.chooseScale = chooseScale;
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(src)) if (f.endsWith('.bin')) copyFileSync(join(src, f), join(dst, f));
  writeFileSync(join(dst, 'model.json'), JSON.stringify(model));
  writeFileSync(join(dst, 'occlude.json'), JSON.stringify(meta, null, 2) + '\n');
  return dst;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--max-width');
  const maxWidth = i < 0 ? 910 : Number(args.splice(i, 2)[1]);
  const j = args.indexOf('--choose-scale');
  const choose = j < 0 ? null : args.splice(j, 2)[1];
  if (args.length !== 2 || !Number.isInteger(maxWidth) || maxWidth <= 0 || choose === undefined) {
    console.error('usage: node training/free_width.mjs SRC DST [--max-width 910] [--choose-scale LABEL]');
    process.exit(2);
  }
  freeWidthCopy(args[0], args[1], maxWidth, choose);
  console.log(`${args[1]}: ${args[0]} with a free input width, maxWidth ${maxWidth}${choose === null ? '' : `, chooseScale ${choose}`}`);
}
