import { promises as fs } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'];

export interface InputFile {
  /** the path to read */
  file: string;
  /** the path relative to the argument's folder (the file name for plain files): mirrored under --out */
  relative: string;
}

export interface ExpandedInputs {
  files: InputFile[];
  /** files in folders that are not images by extension */
  skipped: number;
}

function hasGlob(s: string): boolean {
  return /[*?[\]{}]/.test(s);
}

async function walk(dir: string, recursive: boolean, root: string, out: ExpandedInputs): Promise<void> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) await walk(p, recursive, root, out);
    } else if (IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) {
      out.files.push({ file: p, relative: path.relative(root, p) });
    } else if (!e.name.startsWith('.')) {
      out.skipped++;
    }
  }
}

/** Glob patterns (*, ?, **, {a,b}) are matched against the files under the pattern's fixed leading folder. */
async function expandGlob(pattern: string, out: ExpandedInputs): Promise<void> {
  const parts = pattern.split(/[\\/]/);
  const fixed: string[] = [];
  for (const p of parts) {
    if (hasGlob(p)) break;
    fixed.push(p);
  }
  const base = fixed.length ? fixed.join('/') || '/' : '.';
  const all: ExpandedInputs = { files: [], skipped: 0 };
  const everything = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await everything(p);
      else all.files.push({ file: p, relative: path.relative(base, p) });
    }
  };
  await everything(base);
  const norm = (s: string) => path.normalize(s).split(path.sep).join('/');
  for (const f of all.files) {
    if (path.matchesGlob(norm(f.file), norm(pattern))) {
      if (IMAGE_EXTENSIONS.includes(path.extname(f.file).toLowerCase())) out.files.push(f);
      else out.skipped++;
    }
  }
}

/** Files, folders (their images; with `recursive`, their sub-folders' too) and glob patterns -> image files. */
export async function expandInputs(args: string[], recursive: boolean): Promise<ExpandedInputs> {
  const out: ExpandedInputs = { files: [], skipped: 0 };
  for (const arg of args) {
    let st;
    try {
      st = await fs.stat(arg);
    } catch {
      st = null;
    }
    if (st?.isDirectory()) {
      await walk(arg, recursive, arg, out);
    } else if (!st && hasGlob(arg)) {
      const before = out.files.length;
      await expandGlob(arg, out);
      if (out.files.length === before) throw usageError(`${arg}: no image matches this pattern`, arg);
    } else {
      // a missing file stays in the list: it becomes that file's own error
      out.files.push({ file: arg, relative: path.basename(arg) });
    }
  }
  return out;
}
