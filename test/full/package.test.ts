import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, tmpdir } from '../helpers.js';

/**
 * The package as an app gets it (issue #16): `npm pack`, then `npm install` of the tarball into an empty
 * app. npm installs the tfjs peer dependencies by itself, tfjs-node stays optional, and `npx occlude` and
 * `import('occlude')` work. The packages come from npm's cache (filled by `npm ci`), or the registry.
 */
describe('the packed package in an empty app', () => {
  it('installs with its tfjs peers; npx occlude runs the README example; the library imports', () => {
    const app = tmpdir('occlude-package-');
    execFileSync('npm', ['pack', '--silent', '--pack-destination', app], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const tarball = readdirSync(app).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^occlude-\d+\.\d+\.\d+\.tgz$/);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    const install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], { cwd: app, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    for (const peer of ['tfjs-core', 'tfjs-layers', 'tfjs-converter', 'tfjs-backend-wasm']) {
      expect(existsSync(path.join(app, 'node_modules', '@tensorflow', peer, 'package.json')), peer).toBe(true);
    }
    // what the package ships: the program, the embedded model; not the sources, the tests or the generator
    const pkg = path.join(app, 'node_modules', 'occlude');
    expect(existsSync(path.join(pkg, 'models', 'traffic-light', 'model.json'))).toBe(true);
    expect(existsSync(path.join(pkg, 'models', 'traffic-light-coco', 'weights.bin'))).toBe(true);
    for (const absent of ['src', 'test', 'synth', 'training', 'fixtures']) expect(existsSync(path.join(pkg, absent)), absent).toBe(false);

    const frame = path.join(ROOT, 'fixtures', 'red-single.jpg');
    const run = spawnSync('npx', ['occlude', frame, '--class', 'red', '--patch', '64', '--stride', '16', '-o', 'out.png'], { cwd: app, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/predicted red \(99\.\d+%\)/);
    expect(run.stdout).toMatch(/backend: (wasm|node), engine: incremental/);
    expect(existsSync(path.join(app, 'out.png'))).toBe(true);

    const coco = spawnSync('npx', ['occlude', 'predict', frame, '--model', 'embedded:traffic-light-coco', '--json'], { cwd: app, encoding: 'utf8' });
    expect(coco.status, coco.stderr).toBe(0);
    expect(JSON.parse(coco.stdout)).toMatchObject({ model: 'embedded:traffic-light-coco', class: 'red' });

    const lib = spawnSync('node', ['--input-type=module', '-e', "const m = await import('occlude'); console.log(typeof m.Session.open, typeof m.runFolder)"], { cwd: app, encoding: 'utf8' });
    expect(lib.stdout.trim(), lib.stderr).toBe('function function');
  });
});
