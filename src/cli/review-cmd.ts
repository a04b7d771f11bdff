/** `occlude review IMAGES... --labels CSV --out DIR`: the confusion matrix and the mistakes, as text or confusion.json. */
import { runReview } from '../runs/review.js';
import { confusionText } from '../report/review.js';
import { percent } from '../report/format.js';
import type { ColormapName } from '../options.js';
import { listen, sessionOptions, type Io, type ModelFlags, type Reporter } from './common.js';

export interface ReviewFlags extends ModelFlags {
  /** here: labels.csv (image,class); the model's class names come from --class-names */
  labels?: string;
  classNames?: string;
  out: string;
  report?: string;
  patch: number;
  stride?: number;
  fill: string;
  colormap: ColormapName;
  alpha: number;
  legend: boolean;
  recursive?: boolean;
}

export async function runReviewCmd(inputs: string[], f: ReviewFlags, io: Io, rep: Reporter): Promise<void> {
  const events = listen(io, f, rep);
  const run = await runReview(
    {
      ...sessionOptions({ ...f, labels: f.classNames }),
      inputs,
      recursive: f.recursive,
      labelsFile: f.labels!,
      out: f.out,
      report: f.report,
      patch: f.patch,
      stride: f.stride,
      fill: f.fill,
      colormap: f.colormap,
      alpha: f.alpha,
      legend: f.legend,
      signal: io.signal,
    },
    events,
  ).finally(() => events.progressBar.clear());
  const r = run.result;
  if (f.json) io.stdout.write(JSON.stringify({ ...r, confusion: run.confusion, report: run.report }) + '\n');
  else {
    const lines = [confusionText(r).trimEnd()];
    for (const g of r.groups) {
      lines.push('', `${g.pair}: ${g.description} (${g.images.length})`);
      for (const m of r.mistakes.filter((x) => x.pair === g.pair)) {
        lines.push(`  ${m.image}: predicted ${m.predicted} ${percent(m.probability)}, true ${m.truth} ${percent(m.probabilities[m.truth] ?? 0)}${m.output ? ` -> ${m.output}` : m.error ? ` (error: ${m.error})` : ''}`);
      }
    }
    lines.push('', `confusion matrix: ${run.confusion}`, `page: ${run.report}`, `backend: ${r.backend}`);
    io.stdout.write(lines.join('\n') + '\n');
  }
  if (r.stopped) rep.notice(`stopped: ${r.mistakes.filter((m) => m.output).length} of ${r.mistakes.length} mistake(s) shown (${r.stopped})`);
  rep.interrupted((prefix) => `${prefix}: ${r.frames.length} of ${run.frames} frame(s) classified, ${r.mistakes.length} mistake(s) shown`);
}
