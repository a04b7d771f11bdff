/**
 * Occlusion of many images (the main command): files, folders and glob patterns in; an overlay (and
 * optionally a raw map) per image out, and with `out` a folder with summary.csv / summary.jsonl,
 * run.json and a lock, resumable; optionally the report page.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Session, SessionOptions, OccludeOptions } from '../session.js';
import { forClass, type OcclusionResult } from '../result.js';
import { OccludeError, usageError, messageOf, fsReason, isFatalWriteError, withName } from '../errors.js';
import { makeFolder, checkWritable } from '../files.js';
import type { RgbImage } from '../image/decode.js';
import { resolveClass } from '../model/classes.js';
import { saveOverlay } from '../render/save.js';
import { saveMap, checkMapPath } from '../heatmap/save.js';
import { summaryRow, errorRow, writeSummary, readSummary, SummaryTable, SUMMARY_CSV, SUMMARY_JSONL, type SummaryRow } from '../report/summary.js';
import { checkRunFile, writeRunFile, inputSettings, RUN_FILE, type RunSettings } from '../report/run-file.js';
import { entriesFromSummary, writeReport } from '../report/page.js';
import type { OutputFiles } from '../report/json.js';
import { FolderLock } from '../report/lock.js';
import { occlusionSettings, renderSettings, type FillSpec, type Mode, type RenderOptions } from '../options.js';
import { expandInputs, type InputFile } from './inputs.js';
import { checkShard, selectShard, inputKey, shardName, type Shard } from './shard.js';
import { asOccludeError, useSession, ProgressMeter, type RunEvents } from './events.js';

export interface FolderOptions extends SessionOptions, RenderOptions {
  /** image files, folders (their images) and glob patterns */
  inputs: string[];
  /** descend into sub-folders of folder inputs */
  recursive?: boolean;
  /** the target class (label or index; default: each image's predicted class), or 'all': one overlay per class from one sweep */
  class?: string | number;
  patch?: number;
  stride?: number;
  fill?: FillSpec;
  mode?: Mode;
  iterate?: number;
  /** the overlay of a single image (default: `<image>.occlusion.png` beside it, or under `out`) */
  output?: string;
  /** write the outputs here, mirroring the inputs' paths, with summary.csv, summary.jsonl, run.json and a lock */
  out?: string;
  /** the raw heat-map of a single image: .f32, .json or .png */
  saveMap?: string;
  /** with `out`: skip the images whose summary row has no error and whose overlay exists */
  resume?: boolean;
  /** run only this part of the inputs (1-based; every shard lists all inputs and keeps its part): see `occlude merge` */
  shard?: Shard;
  /** write the self-contained HTML report page here */
  report?: string;
  /** an open session to run on (it stays open); default: one opened from these options and closed at the end */
  session?: Session;
  /** stops the run after the current batch; what was done is kept */
  signal?: AbortSignal;
}

export interface FolderEvents extends RunEvents {
  /** an image is done and its files written */
  result?(result: OcclusionResult, files: OutputFiles): void;
}

export interface FolderResult {
  /** the input images */
  images: number;
  /** one summary row per input image done or failed (resumed ones included), in input order */
  rows: SummaryRow[];
  /** images done without error, resumed ones included */
  done: number;
  failed: number;
  resumed: number;
  /** why the run stopped before the end (a full disk, a read-only file system), or null */
  stopped: string | null;
  /** the signal stopped it */
  interrupted: boolean;
  /** with `out`: summary.csv */
  summary: string | null;
}

/** Run occlusion over files, folders and glob patterns. Usage errors (bad options, a locked or foreign `out`) throw. */
export async function runFolder(o: FolderOptions, events: FolderEvents = {}): Promise<FolderResult> {
  // everything that does not need the model is checked before loading it
  const render = renderSettings(o);
  const settings = occlusionSettings(o);
  if (o.saveMap) checkMapPath(o.saveMap);
  if (o.resume && !o.out) throw usageError('--resume needs --out DIR (it reads DIR/summary.jsonl)');
  const inputs = await expandInputs(o.inputs, o.recursive ?? false);
  if (!inputs.files.length) throw usageError('no image to process');
  if (inputs.skipped) events.notice?.(`skipped ${inputs.skipped} file(s) that are not images`);
  if (inputs.files.length > 1 && (o.output || o.saveMap)) throw usageError('-o/--output and --save-map name one file: with several images use --out DIR');
  let files = inputs.files;
  if (o.shard) {
    files = selectShard(files, inputKey, checkShard(o.shard));
    events.notice?.(`shard ${shardName(o.shard)}: ${files.length} of ${inputs.files.length} image(s)`);
  }
  if (o.out) await makeFolder(o.out);
  if (o.report) await checkWritable(o.report);
  const run = new FolderRun(o, { ...settings, render }, files, events);
  // one run at a time writes into an --out folder: two would each rewrite the summary from their own rows
  return o.out ? withFolderLock(o.out, events, () => run.all()) : run.all();
}

/** Run `fn` holding the lock of an output folder (a second run into it is refused while this one writes). */
export async function withFolderLock<T>(dir: string, events: RunEvents, fn: () => Promise<T>): Promise<T> {
  const lock = await FolderLock.take(dir, (s) => events.notice?.(s));
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** `class: 'all'` (unless the model has a class named "all"). */
function isAllClasses(cls: string | number | undefined, labels: string[]): boolean {
  return typeof cls === 'string' && cls.toLowerCase() === 'all' && !labels.some((l) => l.toLowerCase() === 'all');
}

/** `frame.occlusion.png` -> `frame.occlusion.red.png`: the file of one class's map under class 'all'. */
export function classFile(file: string, label: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.${label.replace(/[^\w.-]+/g, '_')}${ext}`;
}

type Settings = ReturnType<typeof occlusionSettings> & { render: Required<RenderOptions> };

class FolderRun {
  private session: Session | null = null;
  private release: () => Promise<void> = async () => undefined;
  // the summary: one row per image, earlier runs' rows first; rewritten (atomically) as each image finishes
  private table = new SummaryTable();
  private readonly meter: ProgressMeter;
  /** images found complete in the folder (resume) */
  private resumed = 0;
  /** with --out: what run.json records (written again at the end, saying whether the run went through) */
  private runFile: { settings: RunSettings; cwd: string } | null = null;

  constructor(
    private readonly o: FolderOptions,
    private readonly s: Settings,
    private readonly files: InputFile[],
    private readonly events: FolderEvents,
  ) {
    this.meter = new ProgressMeter(events);
  }

  private outputPathFor(input: InputFile): string {
    if (this.o.output) return this.o.output;
    const rel = input.relative.replace(/\.[^./\\]+$/, '');
    if (this.o.out) return path.join(this.o.out, `${rel}.occlusion.png`);
    return input.file.replace(/\.[^./\\]+$/, '') + '.occlusion.png';
  }

  /** An output's name in the summary: relative to the --out folder, with forward slashes. */
  private outName(output: string): string {
    return this.o.out ? path.relative(this.o.out, output).split(path.sep).join('/') : output;
  }

  private async open(): Promise<Session> {
    if (!this.session) ({ session: this.session, release: this.release } = await useSession(this.o, this.events));
    return this.session;
  }

  /** The settings recorded in DIR/run.json: what the results depend on. */
  private async runSettings(session: Session): Promise<RunSettings> {
    const cls = this.o.class;
    return {
      model: { path: session.modelLabel, sha256: await session.model.digest() },
      labels: session.labels,
      class: cls === undefined ? null : isAllClasses(cls, session.labels) ? 'all' : session.labels[resolveClass(cls, session.labels)],
      patch: this.s.patch,
      stride: this.s.stride,
      fill: this.s.fillName,
      mode: this.s.mode,
      iterate: this.s.iterate,
      input: inputSettings(session.inputSpec()),
    };
  }

  /**
   * With --out: check the folder's run file against this run's settings, load the earlier runs' rows, and
   * refuse an input whose overlay would overwrite another image's. Then record the settings.
   */
  private async claimFolder(out: string, session: Session): Promise<void> {
    const settings = await this.runSettings(session);
    const cwd = await checkRunFile(out, settings, this.o.shard);
    const earlier = await readSummary(out);
    if (earlier.length && cwd === null) {
      this.events.notice?.(`${path.join(out, RUN_FILE)} is missing (a folder of an older occlude): the settings of its ${earlier.length} row(s) cannot be checked`);
    }
    this.table.load(earlier, cwd ?? process.cwd());
    for (const input of this.files) {
      const output = this.outputPathFor(input);
      const owner = this.table.byOutput(this.outName(output));
      if (owner && owner.key !== path.resolve(input.file)) {
        throw usageError(`${output} is the overlay of ${owner.row.image} (in ${path.join(out, SUMMARY_JSONL)}); ${input.file} would overwrite it: use another --out`);
      }
    }
    this.runFile = { settings, cwd: cwd ?? process.cwd() };
    await writeRunFile(out, settings, this.runFile.cwd, { shard: this.o.shard, complete: false });
  }

  private async saveSummary(): Promise<void> {
    if (this.o.out) await writeSummary(this.o.out, this.table.list());
  }

  async all(): Promise<FolderResult> {
    const { o, files, events } = this;
    let done = 0;
    let stopped: string | null = null;
    try {
      if (o.out) await this.claimFolder(o.out, await this.open()); // the run file names the model and its preprocessing
      // resume: an image is done when its summary row has no error and its overlay exists
      // (overlays are written atomically, so one that exists is complete)
      const todo: InputFile[] = [];
      for (const input of files) {
        const prev = o.resume ? this.table.get(input.file) : undefined;
        if (prev?.output && !prev.error && (await fs.stat(path.join(o.out!, prev.output)).then((st) => st.isFile(), () => false))) {
          this.table.set(input.file, { ...prev, image: input.file });
        } else todo.push(input);
      }
      this.resumed = files.length - todo.length;
      done += this.resumed;
      if (o.resume) events.notice?.(`resuming: ${done} of ${files.length} image(s) already done`);
      const session = todo.length ? await this.open() : null;
      // class 'all': one sweep, one overlay per class (frame.occlusion.red.png, ...)
      const allClasses = session !== null && isAllClasses(o.class, session.labels);
      const sweep: OccludeOptions = {
        ...(allClasses ? { classes: 'all' as const } : { class: o.class }),
        patch: this.s.patch,
        stride: this.s.stride,
        fill: this.s.fill,
        mode: this.s.mode,
        iterate: this.s.iterate,
        signal: o.signal,
      };
      this.meter.start(); // the rate counts inference, not model loading
      for (const input of todo) {
        try {
          if (o.signal?.aborted) break;
          const output = this.outputPathFor(input);
          if (o.out) await makeFolder(path.dirname(output));
          await checkWritable(output);
          if (o.saveMap) await checkWritable(o.saveMap);
          const image = await session!.decode(input.file); // once: for the sweep and the overlay
          const result = await session!.occlude(image, { ...sweep, name: input.file, onProgress: this.meter.image(path.basename(input.file), done, files.length) });
          this.meter.finished(result.variants);
          const written = await this.saveOutputs(result, image, output, allClasses);
          this.table.set(input.file, summaryRow(result, this.outName(written.output)));
          await this.saveSummary();
          events.result?.(result, written);
        } catch (err) {
          if (o.signal?.aborted) break;
          if (err instanceof OccludeError && err.kind === 'usage' && !err.file) throw err; // a bad option fails every image
          events.failure?.({ image: input.file, error: asOccludeError(err), of: files.length });
          if (isFatalWriteError(err)) {
            // a full disk or a read-only mount fails every later image too: stop now
            stopped = fsReason((err as Error).cause ?? err);
            break;
          }
          this.table.set(input.file, errorRow(input.file, withName(messageOf(err), input.file).split('\n')[0]));
          await this.saveSummary().catch((e: unknown) => events.error?.(asOccludeError(e)));
        } finally {
          done++;
        }
      }
    } finally {
      const labels = this.session?.labels;
      await this.release();
      // what was done is kept: the summary and the page list every finished image
      if (o.report) {
        const list = this.table.list();
        await writeReport(o.report, entriesFromSummary(list, o.report, o.out ?? ''), {
          title: 'occlude report',
          subtitle: `${list.length} image(s), ${list.filter((r) => r.error).length} error(s)${o.class !== undefined && o.class !== '' ? `, target ${o.class}` : ''}, patch ${this.s.patch}, stride ${this.s.stride}`,
          labels,
        }).catch((e: unknown) => events.error?.(asOccludeError(e)));
      }
    }
    const rows = files.map((i) => this.table.get(i.file)).filter((r): r is SummaryRow => !!r);
    const complete = !o.signal?.aborted && !stopped && rows.length === files.length;
    if (o.out && this.runFile) await writeRunFile(o.out, this.runFile.settings, this.runFile.cwd, { shard: o.shard, complete });
    if (o.out && !files.length) await this.saveSummary(); // an empty shard still has its (empty) summary
    return {
      images: files.length,
      rows,
      done: rows.filter((r) => !r.error).length,
      failed: rows.filter((r) => r.error).length,
      resumed: this.resumed,
      stopped: stopped && done < files.length ? stopped : null,
      interrupted: o.signal?.aborted === true,
      summary: o.out ? path.join(o.out, SUMMARY_CSV) : null,
    };
  }

  /** Write the overlay (and the raw map) of a result: the target's, or with class 'all' one per class. */
  private async saveOutputs(result: OcclusionResult, image: RgbImage, output: string, allClasses: boolean): Promise<OutputFiles & { output: string }> {
    const { saveMap: mapFile } = this.o;
    if (!allClasses) {
      await saveOverlay(output, result, image, this.s.render);
      if (mapFile) await saveMap(mapFile, result);
      return { output, map: mapFile ?? null };
    }
    const classes: NonNullable<OutputFiles['classes']> = [];
    for (const m of [...result.maps].sort((a, b) => a.classIndex - b.classIndex)) {
      const files = { class: m.class, output: classFile(output, m.class), map: mapFile ? classFile(mapFile, m.class) : null };
      await saveOverlay(files.output, forClass(result, m.class), image, this.s.render);
      if (files.map) await saveMap(files.map, { map: m.map, width: result.width, height: result.height });
      classes.push(files);
    }
    const target = classes.find((c) => c.class === result.class)!;
    return { output: target.output, map: target.map, classes };
  }
}
