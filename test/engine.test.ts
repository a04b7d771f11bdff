import { describe, expect, it } from 'vitest';
import { runEngine } from '../dist/infer/engine.js';

describe('runEngine', () => {
  it('hands rows to the sink in variant order, whatever order the batches come back in', async () => {
    const seen: number[] = [];
    let call = 0;
    const stats = await runEngine({
      count: 20,
      rectOf: (i) => ({ left: i, top: 0, width: 1, height: 1 }),
      visible: (r) => r.left % 5 !== 0, // every fifth variant takes the unchanged row at once
      unchanged: new Float32Array([-1]),
      // later batches come back first
      score: (rects) => new Promise((resolve) => setTimeout(() => resolve(Float32Array.from(rects, (r) => r.left)), 40 - 10 * (call++ % 4))),
      outputs: 1,
      sink: (i, row) => {
        expect(row[0]).toBe(i % 5 === 0 ? -1 : i);
        seen.push(i);
      },
      batchSize: 2,
      inflight: 4,
    });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(stats).toEqual({ variants: 20, evaluated: 16, skipped: 4 });
  });
});
