import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Session, modelLabel, type OccludeOptions } from '../occlude.js';
import { OccludeError, usageError, messageOf, shownPath, fsReason, isFatalWriteError } from '../errors.js';
import type { ColormapName } from '../render/colormap.js';
import { saveOverlay, parseRange } from '../render/save.js';
import { saveMap, checkMapPath } from '../heatmap/save.js';
import { resultJson, resultText, predictionJson } from '../report/json.js';
import { summaryRow, errorRow, writeSummary, readSummary, type SummaryRow } from '../report/summary.js';
import { entriesFromSummary, writeReport } from '../report/page.js';
import { makeFolder } from '../image/encode.js';
import { expandInputs, type InputFile } from './inputs.js';
import { Progress } from './progress.js';
import { openSession, checkWritable, strideOf, withName, interruption, type Io, type ModelFlags, type Reporter } from './common.js';

/** The main command (occlude IMAGES...) and `occlude predict`. */
export interface OccludeFlags extends ModelFlags {
  class?: string;
  patch: number;
  stride?: number;
  fill: string;
  mode: 'prob' | 'drop';
  iterate: number;
  output?: string;
  out?: string;
  colormap: ColormapName;
  alpha: number;
  range: string;
  legend: boolean;
  saveMap?: string;
  recursive?: boolean;
  resume?: boolean;
  report?: string;
}

function outputPathFor(input: InputFile, f: OccludeFlags): string {
  if (f.output) return f.output;
  const rel = input.relative.replace(/\.[^./\\]+$/, '');
  if (f.out) return path.join(f.out, `${rel}.occlusion.png`);
  return input.file.replace(/\.[^./\\]+$/, '') + '.occlusion.png';
}

export async function runOcclude(args: string[], f: OccludeFlags, io: Io, rep: Reporter): Promise<void> {
  // validate everything that does not need the model before loading it
  const range = parseRange(f.range);
  const stride = strideOf(f);
  if (f.saveMap) checkMapPath(f.saveMap);
  if (f.resume && !f.out) throw usageError('--resume needs --out DIR (it reads DIR/summary.jsonl)');
  const inputs = await expandInputs(args, f.recursive ?? false);
  if (!inputs.files.length) throw usageError('no image to process');
  if (inputs.skipped) io.stderr.write(`occlude: skipped ${inputs.skipped} file(s) that are not images\n`);
  if (inputs.files.length > 1 && (f.output || f.saveMap)) {
    throw usageError('-o/--output and --save-map name one file: with several images use --out DIR');
  }
  if (f.out) await makeFolder(f.out);
  if (f.report) await checkWritable(f.report);
  const opts: OccludeOptions = {
    class: f.class,
    patch: f.patch,
    stride,
    fill: f.fill,
    mode: f.mode,
    iterate: f.iterate,
    signal: io.signal,
  };
  // the summary: one row per image, in input order; rewritten (atomically) as each image finishes
  const rows = new Map<string, SummaryRow>();
  const rowKey = (input: InputFile) => path.resolve(input.file);
  const previous = new Map<string, SummaryRow>();
  if (f.resume && f.out) for (const r of await readSummary(f.out)) if (r.output) previous.set(r.output, r);
  const ordered = () => inputs.files.map((i) => rows.get(rowKey(i))).filter((r): r is SummaryRow => !!r);
  const saveSummary = async () => {
    if (f.out) await writeSummary(f.out, ordered());
  };
  const outName = (output: string) => (f.out ? path.relative(f.out, output).split(path.sep).join('/') : output);

  // --resume: an image is done when its summary row has no error and its overlay exists
  // (overlays are written atomically, so one that exists is complete)
  const todo: InputFile[] = [];
  for (const input of inputs.files) {
    const prev = f.resume ? previous.get(outName(outputPathFor(input, f))) : undefined;
    if (prev && !prev.error && (await fs.stat(outputPathFor(input, f)).then((s) => s.isFile(), () => false))) {
      rows.set(rowKey(input), { ...prev, image: input.file });
    } else todo.push(input);
  }
  if (f.resume) io.stderr.write(`occlude: resuming: ${inputs.files.length - todo.length} of ${inputs.files.length} image(s) already done\n`);

  let session: Session | null = null;
  const progress = Progress.for(io.stderr, f.quiet === true);
  let variantsSoFar = 0;
  let done = inputs.files.length - todo.length;
  let stopped: string | null = null;
  try {
    if (todo.length) session = await openSession(f, rep);
    progress.reset(); // the rate counts inference, not model loading
    for (const input of todo) {
      const output = outputPathFor(input, f);
      try {
        if (io.signal?.aborted) break;
        if (f.out) await makeFolder(path.dirname(output));
        await checkWritable(output);
        if (f.saveMap) await checkWritable(f.saveMap);
        const result = await session!.occlude(input.file, {
          ...opts,
          onProgress: (d, total) => progress.update(path.basename(input.file), done, inputs.files.length, d, total, variantsSoFar + d),
        });
        variantsSoFar += result.variants;
        progress.clear();
        await saveOverlay(output, result, { colormap: f.colormap, alpha: f.alpha, range, legend: f.legend });
        if (f.saveMap) await saveMap(f.saveMap, result.map, result.width, result.height);
        rows.set(rowKey(input), summaryRow(result, outName(output)));
        await saveSummary();
        rep.info(`${input.file}: ${result.evaluated} of ${result.variants} variants through the model (the rest are outside what it sees), ${result.seconds.toFixed(2)} s, backend ${result.backend}`);
        const paths = { output, map: f.saveMap ?? null };
        if (f.json) io.stdout.write(JSON.stringify(resultJson(result, paths, modelLabel(session!.modelPath))) + '\n');
        else io.stdout.write(resultText(result, paths).join('\n') + '\n');
      } catch (err) {
        progress.clear();
        if (io.signal?.aborted) break;
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err; // a bad flag fails every image
        rep.error(err, input.file, inputs.files.length > 1);
        if (isFatalWriteError(err)) {
          // a full disk or a read-only mount fails every later image too: stop now
          stopped = fsReason((err as Error).cause ?? err);
          break;
        }
        rows.set(rowKey(input), errorRow(input.file, withName(messageOf(err), input.file).split('\n')[0]));
        await saveSummary().catch((e) => rep.error(e));
      } finally {
        done++;
      }
    }
  } finally {
    progress.clear();
    await session?.close();
    // what was done is kept: the summary and the page list every finished image
    if (f.report) {
      const list = ordered();
      await writeReport(f.report, entriesFromSummary(list, f.report, f.out ?? ''), {
        title: 'occlude report',
        subtitle: `${list.length} image(s), ${list.filter((r) => r.error).length} error(s)${f.class ? `, target ${f.class}` : ''}, patch ${f.patch}, stride ${stride}`,
        labels: session?.labels,
      }).catch((e) => rep.error(e));
    }
  }
  if (stopped && done < inputs.files.length) {
    io.stderr.write(`occlude: stopped: ${ordered().filter((r) => !r.error).length} of ${inputs.files.length} image(s) done (${stopped})\n`);
  }
  const stop = interruption(io.signal);
  if (stop) {
    const finished = ordered().length;
    io.stderr.write(`${stop.prefix}: ${finished} of ${inputs.files.length} image(s) done${f.out ? `, listed in ${path.join(f.out, 'summary.csv')}` : ''}\n`);
    rep.code = Math.max(rep.code, stop.code);
  }
}

export async function runPredict(args: string[], f: ModelFlags, io: Io, rep: Reporter): Promise<void> {
  const inputs = await expandInputs(args, false);
  const session = await openSession(f, rep);
  try {
    for (const input of inputs.files) {
      try {
        const p = await session.predict(input.file);
        if (f.json) io.stdout.write(JSON.stringify(predictionJson(p, modelLabel(session.modelPath), session.backend)) + '\n');
        else {
          const all = Object.entries(p.probabilities).map(([k, v]) => `${k} ${(v * 100).toFixed(2)}%`).join(', ');
          io.stdout.write(`${shownPath(p.image)}: ${p.class} (${(p.probability * 100).toFixed(2)}%)  [${all}]  backend ${session.backend}\n`);
        }
      } catch (err) {
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err;
        rep.error(err, input.file, inputs.files.length > 1);
      }
    }
  } finally {
    await session.close();
  }
}
