import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { Session } from '../../dist/index.js';
import { DASHCAM, reference, runCli, shared } from '../helpers.js';

/**
 * The seed model (../shared) against the independent PyTorch reference: the pure-JS cpu backend
 * (the last resort of --backend auto), and `occlude predict` on every dash-cam frame.
 */
describe('the seed model gives the reference probabilities', () => {
  it('the cpu backend gives the reference probabilities (the last-resort path is real)', async () => {
    const frame = 'a5af6bd86cf1ee6a2ce4a539ace787f8.jpg';
    const s = await Session.open({ model: shared('seed-model', 'nexar-squeezenet-a'), backend: 'cpu', workers: 1 });
    try {
      expect(s.backend).toBe('cpu');
      const p = await s.predict(path.join(DASHCAM, frame));
      const ref = reference().frames[frame].probabilities['nexar-squeezenet-a'];
      s.labels.forEach((l, i) => expect(Math.abs(p.probabilities[l] - ref[i])).toBeLessThan(1e-4));
    } finally {
      await s.close();
    }
  });

  it('occlude predict, on the six dash-cam frames', async () => {
    const ref = reference().frames;
    const names = Object.keys(ref).sort();
    const r = await runCli(['predict', ...names.map((n) => path.join(DASHCAM, n)), '--model', shared('seed-model', 'nexar-squeezenet-a'), '--json']);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => path.basename(l.image))).toEqual(names);
    for (const l of lines) {
      const probs = ref[path.basename(l.image)].probabilities['nexar-squeezenet-a'];
      expect(l.class).toBe(ref[path.basename(l.image)].class);
      Object.values(l.probabilities as Record<string, number>).forEach((p, i) => expect(Math.abs(p - probs[i])).toBeLessThan(1e-4));
    }
    const a5af = path.join(DASHCAM, 'a5af6bd86cf1ee6a2ce4a539ace787f8.jpg');
    expect(lines.find((l) => l.image === a5af).probability).toBeCloseTo(0.92895, 3);
    const text = await runCli(['predict', a5af, '--model', shared('seed-model', 'nexar-squeezenet-a')]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/: red \(92\.90%\) .* backend (node|wasm|cpu)$/m);
  });
});
