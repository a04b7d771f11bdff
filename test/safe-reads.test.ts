import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { BIN, ROOT, smallModel, tmpdir, runCli } from './helpers.js';
import net from 'node:net';

/**
 * Issue #17, defect 2: reads that escape the model folder or never end. Every case runs the installed
 * command in a subprocess with a time limit: before the fix, several of them read /dev/zero until killed.
 */
const FRAME = path.join(ROOT, 'fixtures', 'red-single.jpg');
let dir: string;
let good: string;

/** Run the CLI; a run that reads forever is killed after 20 s (status null). */
function occlude(args: string[]) {
  const p = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
  return { code: p.status, out: p.stdout, err: p.stderr };
}

/** A copy of the small model with its manifest's weight path set to `weights`. */
function modelWith(name: string, weights: string): string {
  const to = path.join(dir, name);
  mkdirSync(to);
  const json = JSON.parse(readFileSync(path.join(good, 'model.json'), 'utf8'));
  json.weightsManifest[0].paths = [weights];
  writeFileSync(path.join(to, 'model.json'), JSON.stringify(json));
  return to;
}

const mkfifo = (p: string) => execFileSync('mkfifo', [p]);

beforeAll(async () => {
  dir = tmpdir('occlude-reads-');
  good = await smallModel(path.join(dir, 'good'), 3, { labels: ['none', 'red', 'green'] });
});

describe('weight paths stay inside the model folder', () => {
  it('../../../../etc/passwd is refused without reading it (nor telling its size)', () => {
    const model = modelWith('passwd', '../../../../etc/passwd');
    const r = occlude(['predict', FRAME, '--model', model]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${path.join(model, 'model.json')}: weight path "../../../../etc/passwd" is outside the model folder\n`);
    expect(r.err).not.toContain(String(statSync('/etc/passwd').size));
  });

  it('an absolute path and ../../dev/zero are refused at once', () => {
    expect(occlude(['predict', FRAME, '--model', modelWith('abs', '/etc/passwd')]).err).toMatch(/weight path "\/etc\/passwd" is outside the model folder/);
    const r = occlude([FRAME, '--model', modelWith('zero', '../../../../../../../dev/zero'), '--workers', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/weight path "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/dev\/zero" is outside the model folder\n$/);
  });
});

describe('only regular files are read', () => {
  it('a weight file that is a device (a link to /dev/zero inside the folder) or a FIFO', () => {
    const zero = modelWith('zero-link', 'weights.bin');
    symlinkSync('/dev/zero', path.join(zero, 'weights.bin'));
    const r = occlude([FRAME, '--model', zero, '--workers', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${path.join(zero, 'weights.bin')}: not a regular file (a character device)\n`);
    const fifo = modelWith('fifo', 'weights.bin');
    mkfifo(path.join(fifo, 'weights.bin'));
    expect(occlude(['predict', FRAME, '--model', fifo]).err).toBe(`occlude: ${path.join(fifo, 'weights.bin')}: not a regular file (a FIFO)\n`);
  });

  it('weight files must have the size the manifest implies, checked before they are read', () => {
    const big = modelWith('big', 'weights.bin');
    const need = statSync(path.join(good, 'weights.bin')).size;
    writeFileSync(path.join(big, 'weights.bin'), '');
    truncateSync(path.join(big, 'weights.bin'), 3 * 1024 ** 3); // a sparse 3 GB file: never read
    const r = occlude(['predict', FRAME, '--model', big]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${path.join(big, 'model.json')}: weight files (weights.bin) are ${3 * 1024 ** 3} bytes, the manifest needs ${need}\n`);
  });

  it('--model /dev/zero, a model.json or occlude.json that is a FIFO', () => {
    expect(occlude(['predict', FRAME, '--model', '/dev/zero']).err).toBe('occlude: /dev/zero: not a regular file (a character device)\n');
    const m1 = path.join(dir, 'fifo-json');
    mkdirSync(m1);
    mkfifo(path.join(m1, 'model.json'));
    const r1 = occlude(['predict', FRAME, '--model', m1]);
    expect(r1.code).toBe(1);
    expect(r1.err).toBe(`occlude: ${path.join(m1, 'model.json')}: not a regular file (a FIFO)\n`);
    const m2 = path.join(dir, 'fifo-meta');
    mkdirSync(m2);
    for (const f of ['model.json', 'weights.bin']) copyFileSync(path.join(good, f), path.join(m2, f));
    mkfifo(path.join(m2, 'occlude.json'));
    const r2 = occlude(['predict', FRAME, '--model', m2]);
    expect(r2.code).toBe(1);
    expect(r2.err).toBe(`occlude: ${path.join(m2, 'occlude.json')}: not a regular file (a FIFO)\n`);
  });

  it('a check case {"image": "/dev/zero"} fails at once; the other cases run', () => {
    const manifest = path.join(dir, 'zero.json');
    writeFileSync(manifest, JSON.stringify({ cases: [{ image: '/dev/zero', class: 'red' }, { image: FRAME, class: 'red' }] }));
    const r = occlude(['check', manifest, '--workers', '1']);
    expect(r.code).toBe(1);
    expect(r.out.split('\n').slice(0, 2)).toEqual(['FAIL /dev/zero: /dev/zero: not a regular file (a character device)', expect.stringMatching(/^PASS .*red-single\.jpg: predicted red/)]);
  });

  it('a manifest, a labels CSV or an image that is a device or a FIFO', () => {
    expect(occlude(['check', '/dev/zero']).err).toBe('occlude: /dev/zero: not a regular file (a character device)\n');
    const fifo = path.join(dir, 'labels.csv');
    mkfifo(fifo);
    expect(occlude(['review', FRAME, '--labels', fifo, '--out', path.join(dir, 'rv')]).err).toBe(`occlude: ${fifo}: not a regular file (a FIFO)\n`);
    const img = path.join(dir, 'pipe.jpg');
    mkfifo(img);
    const r = occlude(['predict', img, FRAME]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${img}: not a regular file (a FIFO)\n`);
    expect(r.out).toMatch(/red-single\.jpg: red/);
  });

  it('an image that is a socket or a folder (here in a check manifest, in-process)', async () => {
    const sock = path.join(dir, 'sock.jpg');
    const server = net.createServer().listen(sock);
    await new Promise((r) => server.on('listening', r));
    try {
      const manifest = path.join(dir, 'odd.json');
      writeFileSync(manifest, JSON.stringify({ cases: [{ image: sock }, { image: dir }] }));
      const r = await runCli(['check', manifest, '--workers', '1']);
      expect(r.code).toBe(1);
      expect(r.out.split('\n').slice(0, 2)).toEqual([`FAIL ${sock}: ${sock}: not a regular file (a socket)`, `FAIL ${dir}: ${dir}: not a regular file (a folder)`]);
    } finally {
      server.close();
    }
  });
});

describe('images have a byte limit tied to --max-pixels', () => {
  it('a file larger than any image of --max-pixels pixels is refused before it is read', () => {
    const big = path.join(dir, 'big.jpg');
    writeFileSync(big, '');
    truncateSync(big, 32 * 1024 ** 2);
    const r = occlude(['predict', big, '--max-pixels', '1000']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`occlude: ${big}: ${32 * 1024 ** 2} bytes, over the limit of ${1000 * 16 + 16 * 1024 ** 2} bytes for --max-pixels 1000 (16 bytes per pixel + 16 MiB); raise it with --max-pixels\n`);
    // the default limit takes it (and then finds it is no image)
    expect(occlude(['predict', big]).err).toMatch(/big\.jpg: not a readable image/);
  });
});
