import { promises as fs } from 'node:fs';
import path from 'node:path';
import { usageError, runtimeError, messageOf } from '../errors.js';
import { readRunFile, settingsDiff, writeRunFile, RUN_FILE, type RunFile } from '../report/run-file.js';
import { readSummary, writeSummary, SUMMARY_CSV, SUMMARY_JSONL, type SummaryRow } from '../report/summary.js';
import { LOCK_FILE } from '../report/lock.js';
import { entriesFromSummary, writeReport } from '../report/page.js';
import { makeFolder } from '../files.js';
import { shardName } from './shard.js';

/**
 * `occlude merge DIR... --out MERGED`: the output folders of the shards of one folder run
 * (`--shard K/N`) as one: one summary, one report page, the overlays in one folder. The overlays
 * are hard-linked into MERGED when it is on the same filesystem (no space used; results are never
 * rewritten in place, so the link cannot change), and copied otherwise.
 */
export interface MergeOptions {
  dirs: string[];
  out: string;
  /** write the report page here */
  report?: string;
}

export interface MergeResult {
  rows: SummaryRow[];
  /** overlays and other result files placed into `out` */
  files: number;
  /** linked or copied */
  linked: number;
  /** problems that do not stop the merge, e.g. `shard 2/3 is missing`: the merged result is incomplete */
  incomplete: string[];
}

const CONTROL = new Set([RUN_FILE, SUMMARY_CSV, SUMMARY_JSONL, LOCK_FILE]);

export async function runMerge(o: MergeOptions): Promise<MergeResult> {
  if (!o.dirs.length) throw usageError('merge: no folder given');
  const outAbs = path.resolve(o.out);
  const runs: { dir: string; run: RunFile; rows: SummaryRow[] }[] = [];
  for (const dir of o.dirs) {
    if (path.resolve(dir) === outAbs) throw usageError(`${dir}: the merged folder cannot be one of the folders merged`, dir);
    const run = await readRunFile(dir);
    if (!run) throw usageError(`${dir}: not an occlude output folder (no ${RUN_FILE})`, dir);
    runs.push({ dir, run, rows: await readSummary(dir) });
  }
  // one run's results: the same settings everywhere
  const first = runs[0];
  for (const r of runs.slice(1)) {
    const diff = settingsDiff(first.run.settings, r.run.settings);
    if (diff.length) {
      throw usageError(`${path.join(r.dir, RUN_FILE)}: other settings than ${path.join(first.dir, RUN_FILE)}: ${diff.join(', ')}`, r.dir);
    }
  }
  const incomplete = shardProblems(runs);
  // every image once
  const seen = new Map<string, string>();
  const rows: SummaryRow[] = [];
  for (const r of runs) {
    for (const row of r.rows) {
      const key = row.image.split(path.sep).join('/');
      const other = seen.get(key);
      if (other) throw usageError(`${row.image} is in ${other} and in ${r.dir}: shards must not overlap`, row.image);
      seen.set(key, r.dir);
      rows.push(row);
    }
  }
  rows.sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
  // the result files, each from one folder
  const sources = new Map<string, string>();
  for (const r of runs) {
    for (const rel of await resultFiles(r.dir)) {
      const other = sources.get(rel);
      if (other) throw usageError(`${rel} is in ${other} and in ${r.dir}: merging would overwrite one with the other`, rel);
      sources.set(rel, r.dir);
    }
  }
  await makeFolder(o.out);
  let linked = 0;
  for (const [rel, dir] of sources) if (await place(path.join(dir, rel), path.join(o.out, rel))) linked++;
  await writeSummary(o.out, rows);
  await writeRunFile(o.out, first.run.settings, first.run.cwd, { mergedFrom: runs.map((r) => path.resolve(r.dir)), complete: incomplete.length === 0 });
  if (o.report) {
    await writeReport(o.report, entriesFromSummary(rows, o.report, o.out), {
      title: 'occlude report',
      subtitle: `${rows.length} image(s), ${rows.filter((r) => r.error).length} error(s), merged from ${runs.length} folder(s)${incomplete.length ? ` (incomplete: ${incomplete.join('; ')})` : ''}, patch ${first.run.settings.patch}, stride ${first.run.settings.stride}`,
      labels: first.run.settings.labels,
    });
  }
  return { rows, files: sources.size, linked, incomplete };
}

/** Missing shards, several counts, and shards whose run did not finish. */
function shardProblems(runs: { dir: string; run: RunFile }[]): string[] {
  const out: string[] = [];
  const sharded = runs.filter((r) => r.run.shard);
  for (const r of runs) if (r.run.complete === false) out.push(`${r.dir} did not finish${r.run.shard ? ` (shard ${shardName(r.run.shard)})` : ''}`);
  if (!sharded.length) return out;
  const counts = [...new Set(sharded.map((r) => r.run.shard!.count))];
  if (counts.length > 1) throw usageError(`the folders are shards of different splits (${sharded.map((r) => `${r.dir}: ${shardName(r.run.shard!)}`).join(', ')})`);
  const byIndex = new Map<number, string>();
  for (const r of sharded) {
    const other = byIndex.get(r.run.shard!.index);
    if (other) throw usageError(`${other} and ${r.dir} are both shard ${shardName(r.run.shard!)}`);
    byIndex.set(r.run.shard!.index, r.dir);
  }
  const n = counts[0];
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length) out.unshift(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing`);
  return out;
}

/** The files a run wrote into its folder besides its own records, relative to it (the report page is not a result). */
async function resultFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? path.join(rel, e.name) : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && !(rel === '' && CONTROL.has(e.name)) && !e.name.endsWith('.html') && !e.name.endsWith('.tmp')) out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

/** Hard-link `from` to `to` (replacing it), or copy it where links cannot be made; true when linked. */
async function place(from: string, to: string): Promise<boolean> {
  await makeFolder(path.dirname(to));
  const tmp = `${to}.${process.pid}.merge.tmp`;
  let linked = true;
  try {
    await fs.link(from, tmp);
  } catch {
    linked = false;
    try {
      await fs.copyFile(from, tmp);
    } catch (err) {
      throw runtimeError(`cannot write ${to}: ${messageOf(err)}`, to, err);
    }
  }
  await fs.rename(tmp, to);
  return linked;
}
