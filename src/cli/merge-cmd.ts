/** `occlude merge FOLDERS... --out DIR`: the shards of a folder run as one folder; what it merged, or why not. */
import { runMerge } from '../runs/merge.js';
import type { Io, Reporter, ReporterFlags } from './common.js';

export interface MergeFlags extends ReporterFlags {
  out: string;
  report?: string;
}

export async function runMergeCmd(folders: string[], f: MergeFlags, io: Io, rep: Reporter): Promise<void> {
  const r = await runMerge({ dirs: folders, out: f.out, report: f.report });
  const failed = r.rows.filter((row) => row.error).length;
  if (f.json) {
    io.stdout.write(JSON.stringify({ out: f.out, folders: folders.length, images: r.rows.length, failed, files: r.files, linked: r.linked, copied: r.files - r.linked, incomplete: r.incomplete, report: f.report ?? null }) + '\n');
  } else {
    io.stdout.write(`merged ${r.rows.length} image(s) (${failed} failed) from ${folders.length} folder(s) into ${f.out}: ${r.files} file(s), ${r.linked} linked, ${r.files - r.linked} copied\n`);
    if (f.report) io.stdout.write(`page: ${f.report}\n`);
  }
  for (const why of r.incomplete) rep.notice(`incomplete: ${why}`);
  if (r.incomplete.length) rep.code = Math.max(rep.code, 1);
}
