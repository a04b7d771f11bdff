#!/usr/bin/env node
import v8 from 'node:v8';

// Keep the main thread's young generation at its initial size: it only relays batches to the
// workers, and a grown young generation would add tens of MB to peak RSS on long runs.
v8.setFlagsFromString('--semi-space-growth-factor=1');
const { run } = await import('../dist/cli/program.js');

const controller = new AbortController();
process.once('SIGINT', () => controller.abort()); // stop after the current batch
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); }); // `| head`
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
process.exitCode = await run(process.argv.slice(2), io);
