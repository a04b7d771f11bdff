import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { usageError } from '../errors.js';

/**
 * The models that ship with occlude, by name (`--model embedded:NAME`); `traffic-light` is the default.
 * `traffic-light-coco` trades speed for real footage: its backbone was trained on COCO photographs
 * (models/traffic-light-coco/README.md).
 */
export const EMBEDDED_MODELS: Readonly<Record<string, string>> = {
  'traffic-light': fileURLToPath(new URL('../../models/traffic-light', import.meta.url)),
  'traffic-light-coco': fileURLToPath(new URL('../../models/traffic-light-coco', import.meta.url)),
};

/** The model used when none is given. */
export const EMBEDDED_MODEL = EMBEDDED_MODELS['traffic-light'];

/** `embedded` or `embedded:NAME` -> that embedded model's folder; any other string is a path, returned as given. */
export function resolveEmbedded(p: string): string {
  if (p !== 'embedded' && !p.startsWith('embedded:')) return p;
  const name = p === 'embedded' ? 'traffic-light' : p.slice('embedded:'.length);
  const dir = Object.hasOwn(EMBEDDED_MODELS, name) ? EMBEDDED_MODELS[name] : undefined;
  if (!dir) {
    throw usageError(`unknown embedded model "${p}"; occlude ships ${Object.keys(EMBEDDED_MODELS).map((n) => `embedded:${n}`).join(', ')}`);
  }
  return dir;
}

/** How results name a model given by path: `embedded:NAME` for an embedded model, else its absolute path. */
export function modelLabel(p: string): string {
  const name = Object.keys(EMBEDDED_MODELS).find((n) => EMBEDDED_MODELS[n] === p);
  return name ? `embedded:${name}` : path.resolve(p);
}
