/** `occlude predict IMAGES...`: classify only; one line (or JSON line) per image. */
import { runPredict } from '../runs/predict.js';
import { shownPath } from '../errors.js';
import { predictionJson } from '../report/json.js';
import { percent } from '../report/format.js';
import type { Session } from '../session.js';
import { listen, sessionOptions, type Io, type ModelFlags, type Reporter } from './common.js';

export async function runPredictCmd(inputs: string[], f: ModelFlags, io: Io, rep: Reporter): Promise<void> {
  let session: Session | null = null;
  const events = listen(io, f, rep);
  await runPredict(
    { ...sessionOptions(f), inputs },
    {
      ...events,
      session: (s) => {
        session = s;
        events.session!(s);
      },
      prediction: (p) => {
        const { modelLabel, backend } = session!;
        if (f.json) io.stdout.write(JSON.stringify(predictionJson(p, modelLabel, backend)) + '\n');
        else {
          const all = Object.entries(p.probabilities).map(([k, v]) => `${k} ${percent(v)}`).join(', ');
          io.stdout.write(`${shownPath(p.image)}: ${p.class} (${percent(p.probability)})  [${all}]  backend ${backend}${p.input ? `, input ${p.input[1]}x${p.input[0]}` : ''}\n`);
        }
      },
    },
  );
}
