import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { runtimeError, usageError, fsReason } from '../errors.js';
import { readTextFile } from '../files.js';

/**
 * A lock on an output folder, so that two runs never write into it at once (each would rewrite the
 * summary from its own rows and lose the other's).
 *
 * The lock file holds the holder's pid, host, process start time and a random token. It is created
 * complete and atomically: written to a temporary file, then hard-linked to its name, which fails when
 * the name exists (O_EXCL semantics, also on NFS). A lock whose process is gone (a crash, kill -9) is
 * stale: it is removed under a second, short-lived lock (`.recover`), after checking that it is still the
 * same stale lock, so that two runs recovering at once cannot both take it; the temporary files a
 * killed holder left are removed with it. A pid that was reused by
 * another process is told apart by its start time (Linux /proc); a holder on another host is taken as
 * alive. Written by hand rather than with proper-lockfile: that package tells staleness by mtime (a
 * crashed run blocks the folder for its stale period, and a long pause can lose a live lock) and does
 * not record the holder's pid, which the message must name.
 */
export const LOCK_FILE = '.occlude.lock';

interface Holder {
  pid: number;
  host: string;
  /** the process's start time (clock ticks since boot, from /proc/PID/stat), when known */
  start: string | null;
  token: string;
  since: string;
}

/** The start time of a process (Linux), to tell a live holder from a reused pid; null when unknown. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Why a holder is no longer there, or null while it is alive (or cannot be told: another host). */
function goneReason(h: Holder): string | null {
  if (h.host !== os.hostname()) return null;
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'no such process';
    return null; // EPERM: alive, another user's
  }
  const start = processStart(h.pid);
  return h.start && start && start !== h.start ? 'its pid now belongs to another process' : null;
}

async function readHolder(file: string): Promise<Holder | null> {
  try {
    const h = JSON.parse(await readTextFile(file, { maxBytes: 4096 })) as Holder;
    return Number.isInteger(h.pid) && typeof h.token === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** Create `file` with `text`, complete, only if it does not exist; false when it does. */
async function createExclusive(file: string, text: string): Promise<boolean> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, text);
    await fs.link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw runtimeError(`cannot create ${file}: ${fsReason(err)}`, file, err);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

export class FolderLock {
  private constructor(
    readonly file: string,
    private readonly token: string,
  ) {}

  /**
   * Take the lock of `dir`. Held by a live run: a usage error naming the lock and its holder.
   * `say` is told when a stale lock is recovered.
   */
  static async take(dir: string, say: (s: string) => void): Promise<FolderLock> {
    const file = path.join(dir, LOCK_FILE);
    const me: Holder = { pid: process.pid, host: os.hostname(), start: processStart(process.pid), token: randomBytes(8).toString('hex'), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await createExclusive(file, JSON.stringify(me) + '\n')) return new FolderLock(file, me.token);
      const holder = await readHolder(file);
      if (!holder) {
        // being written by its taker (rare: it is linked complete) or damaged: look again shortly
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
        if (attempt < 4) continue;
        throw usageError(`${file}: an unreadable lock; if no occlude run is writing into ${dir}, delete it`, file);
      }
      const gone = goneReason(holder);
      if (!gone) {
        throw usageError(`${file}: another occlude run (pid ${holder.pid} on ${holder.host}) is writing into ${dir}; wait for it to end, or use another --out`, file);
      }
      if (await removeStale(file, holder, me)) say(`${file}: removed the stale lock of pid ${holder.pid} (${gone})`);
    }
    throw usageError(`${file}: could not take the lock (other runs keep taking it); try again`, file);
  }

  /** Remove the lock if it is still this run's. */
  async release(): Promise<void> {
    const holder = await readHolder(this.file);
    if (holder?.token === this.token) await fs.rm(this.file, { force: true });
  }
}

/** Remove a stale lock under the recovery lock, if it is still the same stale lock; true when removed. */
async function removeStale(file: string, stale: Holder, me: Holder): Promise<boolean> {
  const guard = `${file}.recover`;
  if (!(await createExclusive(guard, JSON.stringify(me) + '\n'))) {
    const other = await readHolder(guard);
    if (other && goneReason(other)) {
      // its recoverer died in these few lines
      await fs.rm(guard, { force: true });
      await removeLeftovers(file, other);
    }
    return false;
  }
  try {
    const now = await readHolder(file);
    if (now?.token !== stale.token) return false;
    await fs.rm(file, { force: true });
    await removeLeftovers(file, stale);
    return true;
  } finally {
    await fs.rm(guard, { force: true });
  }
}

/**
 * The temporary files a holder killed between writing and removing them left beside the lock
 * (`createExclusive`'s `.occlude.lock.PID.HEX.tmp`, `.occlude.lock.recover.PID.HEX.tmp`). Only those of
 * a holder on this host whose process no longer exists: a reused pid may be a live run making its own.
 */
async function removeLeftovers(file: string, holder: Holder): Promise<void> {
  if (goneReason(holder) !== 'no such process') return;
  const base = path.basename(file).replace(/\./g, '\\.');
  const theirs = new RegExp(`^${base}(\\.recover)?\\.${holder.pid}\\.[0-9a-f]{8}\\.tmp$`);
  const names = await fs.readdir(path.dirname(file)).catch(() => [] as string[]);
  for (const name of names.filter((n) => theirs.test(n))) await fs.rm(path.join(path.dirname(file), name), { force: true });
}
