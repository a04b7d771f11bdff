import { promises as fs, constants as fsc, type Stats } from 'node:fs';
import path from 'node:path';
import { runtimeError, usageError, messageOf, fsReason, OccludeError } from './errors.js';

/**
 * Reading input files (images, models, manifests, CSVs) so that no read escapes its bounds:
 * only regular files are read, never more bytes than they had when opened, and never more than a limit.
 * A device (/dev/zero), a FIFO or a socket could be read forever; they are refused before a byte is read.
 * Writing outputs so that no reader sees half a file: to a temporary file, then renamed.
 */

/** What a path that is not a regular file is, for messages. */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

function notRegular(file: string, st: Stats): OccludeError {
  const msg = `${file}: not a regular file (${fileKind(st)})`;
  return st.isDirectory() ? usageError(msg, file) : runtimeError(msg, file);
}

function openError(file: string, err: unknown): OccludeError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return runtimeError(`${file}: no such file`, file, err);
  if (code === 'EACCES' || code === 'EPERM') return runtimeError(`${file}: permission denied`, file, err);
  return runtimeError(`${file}: cannot read (${messageOf(err)})`, file, err);
}

/** True when a read failed because the file does not exist. */
export function isMissing(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) if (e.code === 'ENOENT') return true;
  return false;
}

/** The size of a regular file (following links); anything else is refused. */
export async function regularFileSize(file: string): Promise<number> {
  let st: Stats;
  try {
    st = await fs.stat(file);
  } catch (err) {
    throw openError(file, err);
  }
  if (!st.isFile()) throw notRegular(file, st);
  return st.size;
}

export interface ReadLimit {
  /** refuse a file larger than this (before reading it) */
  maxBytes: number;
  /** appended to the message of a file over the limit, e.g. ` for --max-pixels 10` */
  why?: string;
}

/**
 * Read a whole regular file. The path is looked at first (a FIFO is never opened), then the open file
 * itself (so a path swapped in between cannot slip through; O_NONBLOCK keeps the open from waiting on a FIFO),
 * and at most the size it had then is read.
 */
export async function readRegularFile(file: string, limit?: ReadLimit): Promise<Buffer> {
  await regularFileSize(file);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (err) {
    throw openError(file, err);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notRegular(file, st);
    if (limit && st.size > limit.maxBytes) {
      throw runtimeError(`${file}: ${st.size} bytes, over the limit of ${limit.maxBytes} bytes${limit.why ?? ''}`, file);
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const { bytesRead } = await handle.read(buf, off, st.size - off, off);
      if (!bytesRead) break;
      off += bytesRead;
    }
    return buf.subarray(0, off);
  } catch (err) {
    if (err instanceof OccludeError) throw err;
    throw openError(file, err);
  } finally {
    await handle.close();
  }
}

/** Read a text file, or fail with the file's one-line error (`x.csv: no such file`). */
export async function readTextFile(file: string, limit?: ReadLimit): Promise<string> {
  return (await readRegularFile(file, limit)).toString('utf8');
}

/**
 * Write a file atomically: to a temporary file beside the target, then rename,
 * so that a reader (or an interrupted run) never sees a half-written output.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw runtimeError(`cannot write ${file}: ${fsReason(err)}`, file, err);
  }
}

/**
 * `mkdir -p`, failing with the reason. On a read-only mount node's recursive mkdir reports ENOENT,
 * so the nearest existing folder is asked whether it can be written to.
 */
export async function makeFolder(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    const cause = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ((await whyNoFolder(dir)) ?? err) : err;
    throw runtimeError(`cannot create ${dir}: ${fsReason(cause)}`, dir, cause);
  }
}

/** Why `dir` cannot be created below its nearest existing ancestor, or null when that ancestor is writable. */
async function whyNoFolder(dir: string): Promise<unknown> {
  for (let p = path.dirname(path.resolve(dir)); ; p = path.dirname(p)) {
    const st = await fs.stat(p).catch(() => null);
    if (st) {
      if (!st.isDirectory()) return Object.assign(new Error(`${p} is not a folder`), { code: 'ENOTDIR' });
      return fs.access(p, fsc.W_OK).then(() => null, (e: unknown) => e);
    }
    if (p === path.dirname(p)) return null;
  }
}

/** Fail now, with the reason, when `file` could not be written (its folder missing or read-only, or it is a folder). */
export async function checkWritable(file: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  try {
    const st = await fs.stat(file).catch(() => null);
    if (st?.isDirectory()) throw runtimeError(`cannot write ${file}: it is a folder`, file);
    await fs.access(dir, fsc.W_OK);
  } catch (err) {
    if (err instanceof OccludeError) throw err;
    throw runtimeError(`cannot write ${file}: ${fsReason(err)}`, file, err);
  }
}
