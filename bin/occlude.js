#!/usr/bin/env node
import v8 from 'node:v8';

// Keep the main thread's young generation at its initial size: it only relays batches to the
// workers, and a grown young generation would add tens of MB to peak RSS on long runs.
v8.setFlagsFromString('--semi-space-growth-factor=1');
// Ctrl-C, SIGTERM (CI runners, Kubernetes, `timeout`) and SIGHUP (a closed terminal) stop the run after the
// current batch; the summary and the page are written, and the exit code is 128 + the signal's number.
// A second signal ends the process at once.
const controller = new AbortController();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const stop = (signal) => {
  for (const s of SIGNALS) process.removeListener(s, stop);
  controller.abort(signal);
};
for (const s of SIGNALS) process.on(s, stop);
const { run } = await import('../dist/cli/program.js');
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); }); // `| head`
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
process.exitCode = await run(process.argv.slice(2), io);
