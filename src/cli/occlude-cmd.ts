import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Session, type OccludeOptions } from '../session.js';
import { forClass, type OcclusionResult } from '../result.js';
import { OccludeError, usageError, messageOf, shownPath, fsReason, isFatalWriteError } from '../errors.js';
import type { ColormapName } from '../render/colormap.js';
import { saveOverlay } from '../render/save.js';
import { colourRange, describeFill, type RenderOptions } from '../options.js';
import { saveMap, checkMapPath } from '../heatmap/save.js';
import { resultJson, resultText, predictionJson, type OutputPaths } from '../report/json.js';
import { percent } from '../report/format.js';
import { summaryRow, errorRow, writeSummary, readSummary, SummaryTable, SUMMARY_JSONL, type SummaryRow } from '../report/summary.js';
import { checkRunFile, writeRunFile, inputSettings, RUN_FILE, type RunSettings } from '../report/run-file.js';
import { resolveClass } from '../model/classes.js';
import { entriesFromSummary, writeReport } from '../report/page.js';
import { makeFolder } from '../image/encode.js';
import type { RgbImage } from '../image/decode.js';
import { expandInputs, type InputFile } from './inputs.js';
import { Progress } from './progress.js';
import { withName } from '../errors.js';
import { openSession, checkWritable, strideOf, interruption, withFolderLock, type Io, type ModelFlags, type Reporter } from './common.js';

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
  const range = colourRange(f.range);
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
  // one run at a time writes into an --out folder: two would each rewrite the summary from their own rows
  const all = () => occludeAll(inputs.files, { ...f, stride }, range, io, rep);
  await (f.out ? withFolderLock(f.out, io, all) : all());
}

/** The settings recorded in DIR/run.json: what the results depend on. */
async function runSettings(session: Session, f: OccludeFlags & { stride: number }): Promise<RunSettings> {
  return {
    model: { path: session.modelLabel, sha256: await session.model.digest() },
    labels: session.labels,
    class: f.class === undefined ? null : isAllClasses(f.class, session.labels) ? 'all' : session.labels[resolveClass(f.class, session.labels)],
    patch: f.patch,
    stride: f.stride,
    fill: describeFill(f.fill),
    mode: f.mode,
    iterate: f.iterate,
    input: inputSettings(session.inputSpec()),
  };
}

/**
 * With --out: check the folder's run file against this run's settings, load the earlier runs' rows, and
 * refuse an input whose overlay would overwrite another image's. Then record the settings.
 */
async function claimFolder(out: string, session: Session, files: InputFile[], f: OccludeFlags & { stride: number }, io: Io): Promise<SummaryTable> {
  const settings = await runSettings(session, f);
  const cwd = await checkRunFile(out, settings);
  const table = new SummaryTable();
  const earlier = await readSummary(out);
  if (earlier.length && cwd === null) {
    io.stderr.write(`occlude: ${path.join(out, RUN_FILE)} is missing (a folder of an older occlude): the settings of its ${earlier.length} row(s) cannot be checked\n`);
  }
  table.load(earlier, cwd ?? process.cwd());
  for (const input of files) {
    const output = outputPathFor(input, f);
    const owner = table.byOutput(outName(out, output));
    if (owner && owner.key !== path.resolve(input.file)) {
      throw usageError(`${output} is the overlay of ${owner.row.image} (in ${path.join(out, SUMMARY_JSONL)}); ${input.file} would overwrite it: use another --out`);
    }
  }
  await writeRunFile(out, settings, cwd ?? process.cwd());
  return table;
}

/** An output's name in the summary: relative to the --out folder, with forward slashes. */
function outName(out: string | undefined, output: string): string {
  return out ? path.relative(out, output).split(path.sep).join('/') : output;
}

async function occludeAll(files: InputFile[], f: OccludeFlags & { stride: number }, range: RenderOptions['range'], io: Io, rep: Reporter): Promise<void> {
  let opts: OccludeOptions = {
    class: f.class,
    patch: f.patch,
    stride: f.stride,
    fill: f.fill,
    mode: f.mode,
    iterate: f.iterate,
    signal: io.signal,
  };
  let session: Session | null = null;
  // the summary: one row per image, earlier runs' rows first; rewritten (atomically) as each image finishes
  let table = new SummaryTable();
  const saveSummary = async () => {
    if (f.out) await writeSummary(f.out, table.list());
  };
  const progress = Progress.for(io.stderr, f.quiet === true);
  let variantsSoFar = 0;
  let done = 0;
  let stopped: string | null = null;
  try {
    if (f.out) {
      session = await openSession(f, rep); // the folder's run file names the model and its preprocessing
      table = await claimFolder(f.out, session, files, f, io);
    }
    // --resume: an image is done when its summary row has no error and its overlay exists
    // (overlays are written atomically, so one that exists is complete)
    const todo: InputFile[] = [];
    for (const input of files) {
      const prev = f.resume ? table.get(input.file) : undefined;
      if (prev?.output && !prev.error && (await fs.stat(path.join(f.out!, prev.output)).then((st) => st.isFile(), () => false))) {
        table.set(input.file, { ...prev, image: input.file });
      } else todo.push(input);
    }
    done = files.length - todo.length;
    if (f.resume) io.stderr.write(`occlude: resuming: ${done} of ${files.length} image(s) already done\n`);
    if (todo.length) session ??= await openSession(f, rep);
    // --class all: one sweep, one overlay per class (frame.occlusion.red.png, ...)
    const allClasses = session !== null && f.class !== undefined && isAllClasses(f.class, session.labels);
    if (allClasses) opts = { ...opts, class: undefined, classes: 'all' };
    progress.reset(); // the rate counts inference, not model loading
    for (const input of todo) {
      const output = outputPathFor(input, f);
      try {
        if (io.signal?.aborted) break;
        if (f.out) await makeFolder(path.dirname(output));
        await checkWritable(output);
        if (f.saveMap) await checkWritable(f.saveMap);
        const image = await session!.decode(input.file); // once: for the sweep and the overlay
        const result = await session!.occlude(image, {
          ...opts,
          name: input.file,
          onProgress: (d, total) => progress.update(path.basename(input.file), done, files.length, d, total, variantsSoFar + d),
        });
        variantsSoFar += result.variants;
        progress.clear();
        const paths = await saveOutputs(result, image, output, f, range, allClasses);
        table.set(input.file, summaryRow(result, outName(f.out, paths.output)));
        await saveSummary();
        rep.info(`${input.file}: ${result.evaluated} of ${result.variants} variants through the model (the rest are outside what it sees), ${result.seconds.toFixed(2)} s, backend ${result.backend}, engine ${result.engine}`);
        if (f.json) io.stdout.write(JSON.stringify(resultJson(result, paths, session!.modelLabel)) + '\n');
        else io.stdout.write(resultText(result, paths).join('\n') + '\n');
      } catch (err) {
        progress.clear();
        if (io.signal?.aborted) break;
        if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err; // a bad flag fails every image
        rep.error(err, input.file, files.length > 1);
        if (isFatalWriteError(err)) {
          // a full disk or a read-only mount fails every later image too: stop now
          stopped = fsReason((err as Error).cause ?? err);
          break;
        }
        table.set(input.file, errorRow(input.file, withName(messageOf(err), input.file).split('\n')[0]));
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
      const list = table.list();
      await writeReport(f.report, entriesFromSummary(list, f.report, f.out ?? ''), {
        title: 'occlude report',
        subtitle: `${list.length} image(s), ${list.filter((r) => r.error).length} error(s)${f.class ? `, target ${f.class}` : ''}, patch ${f.patch}, stride ${f.stride}`,
        labels: session?.labels,
      }).catch((e) => rep.error(e));
    }
  }
  const mine = files.map((i) => table.get(i.file)).filter((r): r is SummaryRow => !!r);
  if (stopped && done < files.length) {
    io.stderr.write(`occlude: stopped: ${mine.filter((r) => !r.error).length} of ${files.length} image(s) done (${stopped})\n`);
  }
  const stop = interruption(io.signal);
  if (stop) {
    io.stderr.write(`${stop.prefix}: ${mine.length} of ${files.length} image(s) done${f.out ? `, listed in ${path.join(f.out, 'summary.csv')}` : ''}\n`);
    rep.code = Math.max(rep.code, stop.code);
  }
}

/** `--class all` (unless the model has a class named "all"). */
function isAllClasses(cls: string, labels: string[]): boolean {
  return cls.toLowerCase() === 'all' && !labels.some((l) => l.toLowerCase() === 'all');
}

/** `frame.occlusion.png` -> `frame.occlusion.red.png`: the file of one class's map under --class all. */
export function classFile(file: string, label: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.${label.replace(/[^\w.-]+/g, '_')}${ext}`;
}

/** Write the overlay (and --save-map) of a result: the target's, or with --class all one per class. */
async function saveOutputs(result: OcclusionResult, image: RgbImage, output: string, f: OccludeFlags, range: RenderOptions['range'], allClasses: boolean): Promise<OutputPaths & { output: string }> {
  const render = { colormap: f.colormap, alpha: f.alpha, range, legend: f.legend };
  if (!allClasses) {
    await saveOverlay(output, result, image, render);
    if (f.saveMap) await saveMap(f.saveMap, result.map, result.width, result.height);
    return { output, map: f.saveMap ?? null };
  }
  const classes: NonNullable<OutputPaths['classes']> = [];
  for (const m of [...result.maps].sort((a, b) => a.classIndex - b.classIndex)) {
    const files = { class: m.class, output: classFile(output, m.class), map: f.saveMap ? classFile(f.saveMap, m.class) : null };
    await saveOverlay(files.output, forClass(result, m.class), image, render);
    if (files.map) await saveMap(files.map, m.map, result.width, result.height);
    classes.push(files);
  }
  const target = classes.find((c) => c.class === result.class)!;
  return { output: target.output, map: target.map, classes };
}

export async function runPredict(args: string[], f: ModelFlags, io: Io, rep: Reporter): Promise<void> {
  const inputs = await expandInputs(args, false);
  const session = await openSession(f, rep);
  try {
    for (const input of inputs.files) {
      try {
        const p = await session.predict(input.file);
        if (f.json) io.stdout.write(JSON.stringify(predictionJson(p, session.modelLabel, session.backend)) + '\n');
        else {
          const all = Object.entries(p.probabilities).map(([k, v]) => `${k} ${percent(v)}`).join(', ');
          io.stdout.write(`${shownPath(p.image)}: ${p.class} (${percent(p.probability)})  [${all}]  backend ${session.backend}\n`);
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
