import path from 'node:path';
import { forClass, type OcclusionResult } from '../result.js';
import { OccludeError, usageError, messageOf } from '../errors.js';
import type { ColormapName } from '../render/colormap.js';
import { writeReport, relativeHref, type PageEntry } from '../report/page.js';
import { readLabels, LabelIndex, confusion, confusionText, pairName, pairFolder, pairDescription, saveSideBySide } from '../report/review.js';
import { writeFileAtomic, makeFolder } from '../image/encode.js';
import { mapRange } from '../heatmap/accumulate.js';
import { percent } from '../report/format.js';
import { contrastOf, contrastNote } from '../render/legend.js';
import { expandInputs, type InputFile } from './inputs.js';
import { Progress } from './progress.js';
import { openSession, checkWritable, strideOf, interruption, withFolderLock, type Io, type ModelFlags, type Reporter } from './common.js';

/** `occlude review`: the confusion matrix and each mistake's two heat-maps. */
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

interface ReviewedFrame {
  image: string;
  truth: string;
  predicted: string;
  probability: number;
  probabilities: Record<string, number>;
}

interface MapSummary {
  class: string;
  probability: number;
  minProbability: number;
  minPatch: OcclusionResult['minPatch'];
  maxProbability: number;
  /** the map's total contrast: below 0.01 it shows no evidence */
  contrast: number;
}

interface ReviewedMistake extends ReviewedFrame {
  pair: string;
  output: string | null;
  /** the heat-maps' summaries; maxProbability: the highest value of the per-pixel map */
  predictedMap: MapSummary | null;
  trueMap: MapSummary | null;
  error?: string;
}

export async function runReview(args: string[], f: ReviewFlags, io: Io, rep: Reporter): Promise<void> {
  const labelsFile = f.labels!;
  const stride = strideOf(f);
  const labelRows = await readLabels(labelsFile);
  const index = new LabelIndex(labelRows);
  const inputs = await expandInputs(args, f.recursive ?? false);
  if (!inputs.files.length) throw usageError('no image to review');
  if (inputs.skipped) io.stderr.write(`occlude: skipped ${inputs.skipped} file(s) that are not images\n`);
  await makeFolder(f.out);
  // one run at a time writes into the folder
  await withFolderLock(f.out, io, async () => {
    const report = f.report ?? path.join(f.out, 'index.html');
    await checkWritable(report);
    const session = await openSession({ ...f, labels: f.classNames }, rep);
    const progress = Progress.for(io.stderr, f.quiet === true);
    const frames: (ReviewedFrame & { input: InputFile })[] = [];
    const mistakes: ReviewedMistake[] = [];
    const unlabelled: string[] = [];
    const failed: { image: string; error: string }[] = [];
    const fail = (err: unknown, image: string) => {
      rep.error(err, image, inputs.files.length > 1);
      failed.push({ image, error: messageOf(err).split('\n')[0] });
    };
    try {
      const unknown = [...new Set(labelRows.map((r) => r.class))].filter((c) => !session.labels.includes(c));
      if (unknown.length) throw usageError(`${labelsFile}: unknown class ${unknown.map((c) => JSON.stringify(c)).join(', ')}; the model's classes are ${session.labels.join(', ')}`, labelsFile);
      // 1. classify every labelled frame
      for (let n = 0; n < inputs.files.length; n++) {
        const input = inputs.files[n];
        if (io.signal?.aborted) break;
        const truth = index.get(input.file, input.relative);
        if (!truth) {
          unlabelled.push(input.file);
          continue;
        }
        progress.update(`classifying ${path.basename(input.file)}`, n, inputs.files.length, 0, 1, 0);
        try {
          const p = await session.predict(input.file);
          frames.push({ input, image: input.file, truth, predicted: p.class, probability: p.probability, probabilities: p.probabilities });
        } catch (err) {
          progress.clear();
          fail(err, input.file);
        }
      }
      progress.clear();
      if (unlabelled.length) io.stderr.write(`occlude: ${unlabelled.length} frame(s) not in ${labelsFile}, left out: ${unlabelled.slice(0, 3).join(', ')}${unlabelled.length > 3 ? ', ...' : ''}\n`);
      // 2. each mistake: the predicted class's map beside the true class's, grouped by confusion pair
      const order = (c: string) => session.labels.indexOf(c);
      const wrong = frames
        .filter((fr) => fr.truth !== fr.predicted)
        .sort((a, b) => order(a.truth) - order(b.truth) || order(a.predicted) - order(b.predicted) || a.image.localeCompare(b.image));
      let variantsSoFar = 0;
      for (let n = 0; n < wrong.length; n++) {
        const fr = wrong[n];
        const { input, ...frame } = fr;
        const m: ReviewedMistake = { ...frame, pair: pairName(fr.truth, fr.predicted), output: null, predictedMap: null, trueMap: null };
        if (io.signal?.aborted) break;
        try {
          // one sweep gives both maps: every forward pass outputs every class
          const image = await session.decode(input.file);
          const r = await session.occlude(image, {
            name: input.file,
            patch: f.patch,
            stride,
            fill: f.fill,
            signal: io.signal,
            class: fr.predicted,
            classes: [fr.truth],
            onProgress: (d, t) => progress.update(path.basename(input.file), n, wrong.length, d, t, variantsSoFar + d),
          });
          variantsSoFar += r.variants;
          const maps = [forClass(r, fr.predicted), forClass(r, fr.truth)];
          progress.clear();
          const output = path.join(f.out, pairFolder(fr.truth, fr.predicted), input.relative.replace(/\.[^./\\]+$/, '') + '.review.png');
          await makeFolder(path.dirname(output));
          await saveSideBySide(output, image, maps[0], maps[1], { colormap: f.colormap, alpha: f.alpha, legend: f.legend });
          const info = (r: OcclusionResult) => ({ class: r.class, probability: r.probability, minProbability: r.minProbability, minPatch: r.minPatch, maxProbability: mapRange(r.map).max, contrast: contrastOf(r) });
          m.output = output;
          m.predictedMap = info(maps[0]);
          m.trueMap = info(maps[1]);
        } catch (err) {
          progress.clear();
          if (io.signal?.aborted) break;
          if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err;
          fail(err, input.file);
          m.error = messageOf(err).split('\n')[0];
        }
        mistakes.push(m);
      }
    } finally {
      progress.clear();
      await session.close();
    }

    // 3. the confusion matrix, confusion.json and the page
    const conf = confusion(session.labels, frames);
    const pairs = [...new Map(mistakes.map((m) => [m.pair, { name: m.pair, truth: m.truth, predicted: m.predicted }])).values()];
    const groups = pairs.map((p) => ({
      pair: p.name,
      truth: p.truth,
      predicted: p.predicted,
      description: pairDescription(p.truth, p.predicted),
      folder: path.join(f.out, pairFolder(p.truth, p.predicted)),
      images: mistakes.filter((m) => m.pair === p.name).map((m) => m.image),
    }));
    const doc = {
      labels: conf.labels,
      rows: 'true class',
      columns: 'predicted class',
      matrix: conf.matrix,
      total: conf.total,
      correct: conf.correct,
      accuracy: conf.accuracy,
      model: session.modelLabel,
      backend: session.backend,
      patch: f.patch,
      stride,
      groups,
      mistakes,
      frames: frames.map(({ input: _input, ...fr }) => fr),
      unlabelled,
      errors: failed,
      interrupted: io.signal?.aborted === true,
    };
    await writeFileAtomic(path.join(f.out, 'confusion.json'), JSON.stringify(doc, null, 1) + '\n');
    const entries: PageEntry[] = mistakes.map((m) => ({
      image: m.image,
      overlay: m.output ? relativeHref(report, m.output) : null,
      original: relativeHref(report, m.image),
      predicted: m.predicted,
      probability: m.probability,
      class: m.predicted,
      classProbability: m.probability,
      minProbability: m.predictedMap?.minProbability ?? null,
      minPatch: m.predictedMap?.minPatch ?? null,
      error: m.error ?? null,
      group: m.pair,
      truth: m.truth,
      lowContrast: m.predictedMap ? contrastNote(m.predictedMap.contrast, m.predicted) : null,
    note: m.predictedMap && m.trueMap
        ? `left: ${m.predicted} map, min ${percent(m.predictedMap.minProbability)}; right: ${m.truth} map, ${percent(m.trueMap.probability)} unoccluded, up to ${percent(m.trueMap.maxProbability)}`
        : undefined,
    }));
    await writeReport(report, entries, {
      title: 'occlude review: mistakes',
      subtitle: `${conf.correct} of ${conf.total} correct; ${mistakes.length} mistake(s) in ${groups.length} confusion pair(s). Each image: predicted class's heat-map left, true class's right.`,
      groups: groups.map((g) => ({ name: g.pair, description: g.description })),
      labels: session.labels,
    });
    if (f.json) io.stdout.write(JSON.stringify({ ...doc, confusion: path.join(f.out, 'confusion.json'), report }) + '\n');
    else {
      const lines = [confusionText(conf).trimEnd()];
      for (const g of groups) {
        lines.push('', `${g.pair}: ${g.description} (${g.images.length})`);
        for (const m of mistakes.filter((x) => x.pair === g.pair)) {
          lines.push(`  ${m.image}: predicted ${m.predicted} ${percent(m.probability)}, true ${m.truth} ${percent(m.probabilities[m.truth] ?? 0)}${m.output ? ` -> ${m.output}` : m.error ? ` (error: ${m.error})` : ''}`);
        }
      }
      lines.push('', `confusion matrix: ${path.join(f.out, 'confusion.json')}`, `page: ${report}`, `backend: ${session.backend}`);
      io.stdout.write(lines.join('\n') + '\n');
    }
    const stop = interruption(io.signal);
    if (stop) {
      io.stderr.write(`${stop.prefix}: ${frames.length} of ${inputs.files.length} frame(s) classified, ${mistakes.length} mistake(s) shown\n`);
      rep.code = Math.max(rep.code, stop.code);
    }
  });
}
