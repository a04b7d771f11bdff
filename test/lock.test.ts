import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FolderLock, LOCK_FILE } from '../dist/report/lock.js';
import { tmpdir } from './helpers.js';

/** The pid of a process that has just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.status).toBe(0);
  return r.pid!;
}

/** A lock file's text, as `FolderLock.take` writes it, for a holder `pid` on this host. */
function holderText(pid: number): string {
  return JSON.stringify({ pid, host: os.hostname(), start: null, token: `token${pid}`, since: new Date().toISOString() }) + '\n';
}

describe('the output folder lock', () => {
  it('recovers a stale lock and removes the temporary files its killed holder left, not those of a live pid', async () => {
    const dir = tmpdir('lock-');
    const pid = deadPid();
    writeFileSync(path.join(dir, LOCK_FILE), holderText(pid));
    // killed between writing its temporary file and removing it (createExclusive), or while recovering
    const left = [`${LOCK_FILE}.${pid}.0123abcd.tmp`, `${LOCK_FILE}.recover.${pid}.89abcdef.tmp`];
    // a live run's temporary file, and a file that only looks alike: both stay
    const kept = [`${LOCK_FILE}.${process.pid}.deadbeef.tmp`, `${LOCK_FILE}.${pid}.notahexname.tmp`];
    for (const f of [...left, ...kept]) writeFileSync(path.join(dir, f), holderText(pid));
    const said: string[] = [];
    const lock = await FolderLock.take(dir, (s) => said.push(s));
    expect(said).toEqual([`${path.join(dir, LOCK_FILE)}: removed the stale lock of pid ${pid} (no such process)`]);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, ...kept].sort());
    await lock.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('a recoverer killed while recovering: its guard and temporary file are removed, then the stale lock', async () => {
    const dir = tmpdir('lock-');
    const [holderPid, recovererPid] = [deadPid(), deadPid()];
    writeFileSync(path.join(dir, LOCK_FILE), holderText(holderPid));
    writeFileSync(path.join(dir, `${LOCK_FILE}.recover`), holderText(recovererPid));
    writeFileSync(path.join(dir, `${LOCK_FILE}.recover.${recovererPid}.0123abcd.tmp`), holderText(recovererPid));
    const said: string[] = [];
    const lock = await FolderLock.take(dir, (s) => said.push(s));
    expect(said).toEqual([`${path.join(dir, LOCK_FILE)}: removed the stale lock of pid ${holderPid} (no such process)`]);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    await lock.release();
  });

  it('a live holder keeps the lock, and its files are left alone', async () => {
    const dir = tmpdir('lock-');
    writeFileSync(path.join(dir, LOCK_FILE), holderText(process.pid));
    writeFileSync(path.join(dir, `${LOCK_FILE}.${process.pid}.0123abcd.tmp`), '');
    await expect(FolderLock.take(dir, () => {})).rejects.toThrow(`another occlude run (pid ${process.pid} on ${os.hostname()})`);
    expect(readdirSync(dir).length).toBe(2);
  });
});
