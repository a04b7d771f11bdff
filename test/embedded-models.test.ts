import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ROOT, runCli } from './helpers.js';
import { EMBEDDED_MODEL, EMBEDDED_MODELS } from '../dist/index.js';
import { resolveEmbedded } from '../dist/model/embedded.js';
import { parseManifest } from '../dist/report/manifest.js';

/** The models that ship with occlude, chosen by name: `--model embedded:NAME`. */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
const COCO = path.join(ROOT, 'models', 'traffic-light-coco');

describe('embedded models by name', () => {
  it('resolves embedded:NAME to the folder in the package, and leaves paths alone', () => {
    expect(EMBEDDED_MODELS['traffic-light']).toBe(EMBEDDED_MODEL);
    expect(resolveEmbedded('embedded:traffic-light-coco')).toBe(COCO);
    expect(resolveEmbedded('embedded')).toBe(EMBEDDED_MODEL);
    expect(resolveEmbedded('models/mine')).toBe('models/mine');
    expect(() => resolveEmbedded('embedded:nope')).toThrow(
      'unknown embedded model "embedded:nope"; occlude ships embedded:traffic-light, embedded:traffic-light-coco',
    );
  });

  it('a check manifest can name one', () => {
    const m = parseManifest({ model: 'embedded:traffic-light-coco', cases: [{ image: 'a.jpg', class: 'red' }] }, '/x/m.json', EMBEDDED_MODEL);
    expect(m.model).toBe(COCO);
    expect(() => parseManifest({ model: 'embedded:nope', cases: [{ image: 'a.jpg' }] }, '/x/m.json', EMBEDDED_MODEL)).toThrow(
      /\/x\/m\.json: .*unknown embedded model "embedded:nope"/,
    );
  });

  it('--model embedded:traffic-light-coco runs the COCO-backbone GraphModel (free input height, range 0-255) and names it', async () => {
    const r = await runCli(['predict', FRAME, '--model', 'embedded:traffic-light-coco', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const p = JSON.parse(r.out);
    expect(p.model).toBe('embedded:traffic-light-coco');
    expect(p.class).toBe('red');
    expect(p.probabilities.none + p.probabilities.red + p.probabilities.green).toBeCloseTo(1, 5);
  });

  it('an unknown name is a usage error (exit 2) that lists the shipped ones', async () => {
    const r = await runCli(['predict', FRAME, '--model', 'embedded:nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^occlude: unknown embedded model "embedded:nope"; occlude ships embedded:traffic-light, embedded:traffic-light-coco\n$/);
  });
});
