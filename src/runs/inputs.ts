/** Inputs to images: files, folders (their images, optionally their sub-folders') and glob patterns; output names under --out. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { glob } from 'tinyglobby';
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

/** Compare paths segment by segment (a folder's files in name order, a sub-folder's where its name falls), as a sorted walk lists them. */
function bySegments(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = x[i].localeCompare(y[i]);
    if (c) return c;
  }
  return x.length - y.length;
}

/**
 * The files a glob pattern matches (*, ?, **, {a,b}, [...]), as paths from the pattern's fixed leading
 * folder (tinyglobby walks only the folders the pattern can reach), in name order. Dot files match too.
 */
export async function globFiles(pattern: string): Promise<{ base: string; files: string[] }> {
  const parts = pattern.split(/[\\/]/);
  const fixed: string[] = [];
  for (const p of parts) {
    if (hasGlob(p)) break;
    fixed.push(p);
  }
  const base = fixed.length ? fixed.join('/') || '/' : '.';
  const found = await glob(parts.slice(fixed.length).join('/'), { cwd: base, dot: true, onlyFiles: true, expandDirectories: false });
  return { base, files: found.sort(bySegments) };
}

/** A glob pattern's images; the other files it matches are counted as skipped. */
async function expandGlob(pattern: string, out: ExpandedInputs): Promise<void> {
  const { base, files } = await globFiles(pattern);
  for (const rel of files) {
    const file = path.join(base, rel);
    if (IMAGE_EXTENSIONS.includes(path.extname(file).toLowerCase())) out.files.push({ file, relative: path.relative(base, file) });
    else out.skipped++;
  }
}

/** The deepest folder that holds every one of these paths. */
export function commonFolder(paths: string[]): string {
  if (!paths.length) return path.resolve('.');
  let parts = path.dirname(path.resolve(paths[0])).split(path.sep);
  for (const p of paths.slice(1)) {
    const q = path.dirname(path.resolve(p)).split(path.sep);
    let n = 0;
    while (n < parts.length && n < q.length && parts[n] === q[n]) n++;
    parts = parts.slice(0, n);
  }
  return parts.join(path.sep) || path.sep;
}

/**
 * Output names under --out. Each input is named by its path relative to its argument
 * (the folder, the glob's fixed folder, or just the file name). When two inputs would get
 * the same name (two a.jpg in different folders), every input is instead named by its path
 * relative to the deepest folder holding them all, so no output overwrites another; inputs that
 * differ only by extension (a.jpg, a.png) keep it in their output names (a.jpg.occlusion.png).
 * The same file given twice is kept once.
 */
export function mirrorNames(files: InputFile[]): InputFile[] {
  const seen = new Set<string>();
  const unique = files.filter((f) => {
    const key = path.resolve(f.file);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const names = new Set(unique.map((f) => noExt(f.relative)));
  if (names.size === unique.length) return unique;
  const base = commonFolder(unique.map((f) => f.file));
  const mirrored = unique.map((f) => ({ file: f.file, relative: path.relative(base, path.resolve(f.file)) }));
  // a.jpg and a.png in one folder: those keep their extension in the output name (a.jpg.occlusion.png)
  const count = new Map<string, number>();
  for (const f of mirrored) count.set(noExt(f.relative), (count.get(noExt(f.relative)) ?? 0) + 1);
  return mirrored.map((f) => (count.get(noExt(f.relative))! > 1 ? { file: f.file, relative: f.relative.replace(/(\.[^./\\]+)$/, '$1$1') } : f));
}

function noExt(rel: string): string {
  return path.normalize(rel).replace(/\.[^./\\]+$/, '').toLowerCase();
}

/** Files, folders (their images; with `recursive`, their sub-folders' too) and glob patterns -> image files. */
export async function expandInputs(args: string[], recursive: boolean): Promise<ExpandedInputs> {
  const out = await expandRaw(args, recursive);
  return { files: mirrorNames(out.files), skipped: out.skipped };
}

async function expandRaw(args: string[], recursive: boolean): Promise<ExpandedInputs> {
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
