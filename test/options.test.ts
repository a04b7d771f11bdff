import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  defaultStride,
  patchAndStride,
  occlusionSettings,
  renderSettings,
  colourRange,
  byteSize,
  parseFill,
  describeFill,
  integerText,
  numberText,
  heightWidthText,
  numbersText,
} from '../dist/options.js';
import { parseManifest } from '../dist/report/manifest.js';

/** options.ts: one default and one validator per option, for the API, the CLI and the manifest reader. */
describe('defaults', () => {
  it('patch 32, stride half the patch, grey 0.5, prob, one pass, afmhot at 0.6 over the auto range', () => {
    expect(occlusionSettings({})).toEqual({ patch: 32, stride: 16, mode: 'prob', iterate: 1, fill: 0.5, fillName: '0.5' });
    expect(defaultStride(1)).toBe(1);
    expect(defaultStride(33)).toBe(16);
    expect(renderSettings()).toEqual({ colormap: 'afmhot', alpha: 0.6, range: 'auto', legend: true });
    expect([DEFAULTS.memoryBudget, DEFAULTS.maxPixels, DEFAULTS.rule, DEFAULTS.minShare]).toEqual([1024 ** 3, 50_000_000, 'min', 0.5]);
  });
});

describe('validators: sharp-style usage errors', () => {
  const usage = (fn: () => unknown, message: RegExp) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'OccludeError', kind: 'usage', message: expect.stringMatching(message) });
  };

  it('in the API', () => {
    usage(() => patchAndStride(0), /^Expected positive integer for patch but received 0$/);
    usage(() => patchAndStride(8, 64), /^Expected integer between 1 and 8 \(the patch size\) for stride but received 64: pixels between patches would never be covered$/);
    usage(() => occlusionSettings({ mode: 'max' as 'prob' }), /^Expected one of prob, drop for mode but received "max"$/);
    usage(() => renderSettings({ alpha: 2 }), /^Expected number between 0 and 1 for alpha but received 2$/);
    usage(() => renderSettings({ range: [1, 0] }), /^Expected auto or LO,HI with LO < HI for range but received \[1,0\]$/);
    usage(() => parseFill('purple'), /^Expected number between 0 and 1, hex colour, mean or blur for fill but received "purple"$/);
    usage(() => byteSize('memoryBudget', 'lots'), /^Expected size in bytes \(e\.g\. 1GB, 512MB\) for memoryBudget but received "lots"$/);
  });

  it('for flags (the text as given is quoted)', () => {
    usage(() => integerText('patch', '0'), /^Expected positive integer for patch but received "0"$/);
    usage(() => integerText('patch', '2.5'), /^Expected positive integer for patch but received "2\.5"$/);
    usage(() => numberText('alpha', 'x', 0, 1), /^Expected number between 0 and 1 for alpha but received "x"$/);
    usage(() => heightWidthText('input-size', '227'), /^Expected HEIGHTxWIDTH for input-size but received "227"$/);
    usage(() => numbersText('input-range', '0', 2), /^Expected 2 numbers for input-range but received "0"$/);
    expect([integerText('patch', ' 12 '), heightWidthText('resize', '256x455'), numbersText('mean', '1,2,3')]).toEqual([12, [256, 455], [1, 2, 3]]);
  });

  it('values that pass', () => {
    expect(colourRange('0,1')).toEqual([0, 1]);
    expect(byteSize('memory-budget', '512MB')).toBe(512 * 1024 ** 2);
    expect(parseFill('#f00')).toEqual({ kind: 'constant', rgb: [1, 0, 0] });
    expect([describeFill(0.5), describeFill('#FF0000'), describeFill('blur')]).toEqual(['0.5', '#ff0000', 'blur']);
  });

  it('in a manifest: the same messages, naming the file and the case', () => {
    usage(() => parseManifest({ fill: 'purple', cases: [{ image: 'a.jpg' }] }, 'm.json', '/model'), /^m\.json: Expected number between 0 and 1, hex colour, mean or blur for fill but received "purple"$/);
    usage(() => parseManifest({ cases: [{ image: 'a.jpg', minShare: 0 }] }, 'm.json', '/model'), /^m\.json: case 1 \(a\.jpg\): Expected number between 0 and 1 for minShare but received 0$/);
    usage(() => parseManifest({ cases: [{ image: 'a.jpg', patch: [32] }] }, 'm.json', '/model'), /^m\.json: case 1 \(a\.jpg\): Expected positive integer for patch but received \[32\]$/);
    expect(parseManifest({ cases: [{ image: 'a.jpg' }] }, 'm.json', '/model')).toMatchObject({ patch: 32, stride: 16, rule: 'min', minShare: 0.5 });
  });
});

describe('one percentage format for every output', () => {
  it('two decimals, four where two would read 100.00% or 0.00%', async () => {
    const { percent } = await import('../dist/report/format.js');
    expect([0.929, 0.9995, 0.99996, 1, 0.0005, 0.00004, 0].map(percent)).toEqual(['92.90%', '99.95%', '99.9960%', '100.0000%', '0.05%', '0.0040%', '0.0000%']);
  });
});
