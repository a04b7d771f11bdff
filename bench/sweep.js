// What the bench scripts that drive a scorer directly share: a session's frame as a scorer's job, the
// incremental engine on this thread planned as the session plans it, and the patches a sweep scores.
import { IncrementalScorer } from '../dist/infer/scorer.js';
import { planGrid, patchRect } from '../dist/plan/grid.js';
import { Preprocessor } from '../dist/image/preprocess.js';

/** A decoded image as a scorer's frame job (grey fill, the CLI's default). */
export const frameOf = (image, spec) => ({ width: image.width, height: image.height, data: image.data, fill: { kind: 'constant', rgb: [0.5, 0.5, 0.5] }, occluders: [], spec });

/** The incremental engine on this thread, planned as the session plans it (frame gates...). */
export const incrementalScorer = (session) => new IncrementalScorer(session.model, session.backend, session.planOptions);

/** The patches of a sweep that change what the model sees. */
export function sweepRects(image, spec, patch, stride) {
  const pre = new Preprocessor(image.width, image.height, spec);
  const grid = planGrid(image.width, image.height, patch, stride);
  const rects = [];
  for (let i = 0; i < grid.count; i++) if (pre.affected(patchRect(grid, i))) rects.push(patchRect(grid, i));
  return rects;
}
