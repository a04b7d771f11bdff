/**
 * Review of a classifier's mistakes (`occlude review`): classify labelled frames, count the confusion
 * matrix, and show each mistake as two heat-maps side by side (the predicted class's, the true
 * class's), grouped by confusion pair; write confusion.json and the review page.
 */
import path from 'node:path';
import type { Session, SessionOptions } from '../session.js';
import { forClass, type OcclusionResult } from '../result.js';
import { OccludeError, usageError, messageOf, isFatalWriteError, fsReason } from '../errors.js';
import { writeFileAtomic, makeFolder, checkWritable } from '../files.js';
import { mapRange } from '../heatmap/accumulate.js';
import { contrastOf, contrastNote } from '../render/legend.js';
import { writeReport, relativeHref, type PageEntry } from '../report/page.js';
import { readLabels, LabelIndex, confusion, pairName, pairFolder, pairDescription, saveSideBySide, type Confusion } from '../report/review.js';
import { percent } from '../report/format.js';
import { patchAndStride, renderSettings, type FillSpec, type RenderOptions } from '../options.js';
import { expandInputs, type InputFile } from './inputs.js';
import { asOccludeError, useSession, ProgressMeter, type RunEvents } from './events.js';
import { withFolderLock } from './folder.js';

export interface ReviewOptions extends SessionOptions, RenderOptions {
  /** image files, folders (their images) and glob patterns */
  inputs: string[];
  recursive?: boolean;
  /** labels.csv: the columns image,class */
  labelsFile: string;
  /** the output folder: confusion.json, one side-by-side PNG per mistake, index.html */
  out: string;
  /** the review page (default: <out>/index.html) */
  report?: string;
  patch?: number;
  stride?: number;
  fill?: FillSpec;
  /** an open session to run on (it stays open) */
  session?: Session;
  signal?: AbortSignal;
}

export interface ReviewedFrame {
  image: string;
  truth: string;
  predicted: string;
  probability: number;
  probabilities: Record<string, number>;
}

export interface MapSummary {
  class: string;
  probability: number;
  minProbability: number;
  minPatch: OcclusionResult['minPatch'];
  /** the highest value of the per-pixel map */
  maxProbability: number;
  /** the map's total contrast: below 0.01 it shows no evidence */
  contrast: number;
}

export interface ReviewedMistake extends ReviewedFrame {
  /** true→predicted, e.g. none→red */
  pair: string;
  /** the side-by-side PNG */
  output: string | null;
  predictedMap: MapSummary | null;
  trueMap: MapSummary | null;
  error?: string;
}

export interface ReviewGroup {
  pair: string;
  truth: string;
  predicted: string;
  description: string;
  folder: string;
  images: string[];
}

/** confusion.json (and `review --json`): the matrix, the groups, every frame's prediction and each mistake's two maps. */
export interface ReviewResult extends Omit<Confusion, 'labels'> {
  labels: string[];
  rows: 'true class';
  columns: 'predicted class';
  model: string;
  backend: string;
  patch: number;
  stride: number;
  groups: ReviewGroup[];
  mistakes: ReviewedMistake[];
  frames: ReviewedFrame[];
  /** frames not in labels.csv, left out */
  unlabelled: string[];
  errors: { image: string; error: string }[];
  interrupted: boolean;
  /** why the mistakes stopped before the end (a full disk, a read-only file system), or null */
  stopped: string | null;
}

export type ReviewEvents = RunEvents;

/** What runReview gives: confusion.json's document, where it is, and the page. */
export interface ReviewRun {
  result: ReviewResult;
  /** the input frames */
  frames: number;
  confusion: string;
  report: string;
}

export async function runReview(o: ReviewOptions, events: ReviewEvents = {}): Promise<ReviewRun> {
  const { patch, stride } = patchAndStride(o.patch, o.stride);
  const render = renderSettings(o);
  const labelRows = await readLabels(o.labelsFile);
  const index = new LabelIndex(labelRows);
  const inputs = await expandInputs(o.inputs, o.recursive ?? false);
  if (!inputs.files.length) throw usageError('no image to review');
  if (inputs.skipped) events.notice?.(`skipped ${inputs.skipped} file(s) that are not images`);
  await makeFolder(o.out);
  // one run at a time writes into the folder
  return withFolderLock(o.out, events, async () => {
    const report = o.report ?? path.join(o.out, 'index.html');
    await checkWritable(report);
    const { session, release } = await useSession(o, events);
    const meter = new ProgressMeter(events);
    const frames: (ReviewedFrame & { input: InputFile })[] = [];
    const mistakes: ReviewedMistake[] = [];
    const unlabelled: string[] = [];
    const failed: { image: string; error: string }[] = [];
    let stopped: string | null = null;
    const fail = (err: unknown, image: string) => {
      events.failure?.({ image, error: asOccludeError(err), of: inputs.files.length });
      failed.push({ image, error: messageOf(err).split('\n')[0] });
    };
    try {
      const unknown = [...new Set(labelRows.map((r) => r.class))].filter((c) => !session.labels.includes(c));
      if (unknown.length) throw usageError(`${o.labelsFile}: unknown class ${unknown.map((c) => JSON.stringify(c)).join(', ')}; the model's classes are ${session.labels.join(', ')}`, o.labelsFile);
      // 1. classify every labelled frame
      for (let n = 0; n < inputs.files.length; n++) {
        const input = inputs.files[n];
        if (o.signal?.aborted) break;
        const truth = index.get(input.file, input.relative);
        if (!truth) {
          unlabelled.push(input.file);
          continue;
        }
        meter.report(`classifying ${path.basename(input.file)}`, n, inputs.files.length, 0, 1);
        try {
          const p = await session.predict(input.file);
          frames.push({ input, image: input.file, truth, predicted: p.class, probability: p.probability, probabilities: p.probabilities });
        } catch (err) {
          fail(err, input.file);
        }
      }
      if (unlabelled.length) events.notice?.(`${unlabelled.length} frame(s) not in ${o.labelsFile}, left out: ${unlabelled.slice(0, 3).join(', ')}${unlabelled.length > 3 ? ', ...' : ''}`);
      // 2. each mistake: the predicted class's map beside the true class's, grouped by confusion pair
      const order = (c: string) => session.labels.indexOf(c);
      const wrong = frames
        .filter((fr) => fr.truth !== fr.predicted)
        .sort((a, b) => order(a.truth) - order(b.truth) || order(a.predicted) - order(b.predicted) || a.image.localeCompare(b.image));
      for (let n = 0; n < wrong.length; n++) {
        const { input, ...frame } = wrong[n];
        const m: ReviewedMistake = { ...frame, pair: pairName(frame.truth, frame.predicted), output: null, predictedMap: null, trueMap: null };
        if (o.signal?.aborted) break;
        try {
          // one sweep gives both maps: every forward pass outputs every class
          const image = await session.decode(input.file);
          const r = await session.occlude(image, {
            name: input.file,
            patch,
            stride,
            fill: o.fill,
            signal: o.signal,
            class: frame.predicted,
            classes: [frame.truth],
            onProgress: meter.image(path.basename(input.file), n, wrong.length),
          });
          meter.finished(r.variants);
          const maps = [forClass(r, frame.predicted), forClass(r, frame.truth)];
          const output = path.join(o.out, pairFolder(frame.truth, frame.predicted), input.relative.replace(/\.[^./\\]+$/, '') + '.review.png');
          await makeFolder(path.dirname(output));
          await saveSideBySide(output, image, maps[0], maps[1], render);
          const info = (x: OcclusionResult): MapSummary => ({ class: x.class, probability: x.probability, minProbability: x.minProbability, minPatch: x.minPatch, maxProbability: mapRange(x.map).max, contrast: contrastOf(x) });
          m.output = output;
          m.predictedMap = info(maps[0]);
          m.trueMap = info(maps[1]);
        } catch (err) {
          if (o.signal?.aborted) break;
          if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err;
          fail(err, input.file);
          m.error = messageOf(err).split('\n')[0];
          if (isFatalWriteError(err)) {
            // a full disk or a read-only mount fails every later mistake too: stop now
            stopped = fsReason((err as Error).cause ?? err);
            mistakes.push(m);
            break;
          }
        }
        mistakes.push(m);
      }
    } finally {
      await release();
    }

    // 3. the confusion matrix, confusion.json and the page
    const conf = confusion(session.labels, frames);
    const pairs = [...new Map(mistakes.map((m) => [m.pair, { name: m.pair, truth: m.truth, predicted: m.predicted }])).values()];
    const groups: ReviewGroup[] = pairs.map((p) => ({
      pair: p.name,
      truth: p.truth,
      predicted: p.predicted,
      description: pairDescription(p.truth, p.predicted),
      folder: path.join(o.out, pairFolder(p.truth, p.predicted)),
      images: mistakes.filter((m) => m.pair === p.name).map((m) => m.image),
    }));
    const result: ReviewResult = {
      labels: conf.labels,
      rows: 'true class',
      columns: 'predicted class',
      matrix: conf.matrix,
      total: conf.total,
      correct: conf.correct,
      accuracy: conf.accuracy,
      model: session.modelLabel,
      backend: session.backend,
      patch,
      stride,
      groups,
      mistakes,
      frames: frames.map(({ input: _input, ...fr }) => fr),
      unlabelled,
      errors: failed,
      interrupted: o.signal?.aborted === true,
      stopped,
    };
    const confusionFile = path.join(o.out, 'confusion.json');
    await writeFileAtomic(confusionFile, JSON.stringify(result, null, 1) + '\n');
    await writeReport(report, mistakes.map((m) => pageEntry(m, report)), {
      title: 'occlude review: mistakes',
      subtitle: `${conf.correct} of ${conf.total} correct; ${mistakes.length} mistake(s) in ${groups.length} confusion pair(s). Each image: predicted class's heat-map left, true class's right.`,
      groups: groups.map((g) => ({ name: g.pair, description: g.description })),
      labels: session.labels,
    });
    return { result, frames: inputs.files.length, confusion: confusionFile, report };
  });
}

/** A mistake's tile on the review page. */
function pageEntry(m: ReviewedMistake, report: string): PageEntry {
  return {
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
  };
}
