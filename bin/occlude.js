#!/usr/bin/env node
import { run } from '../dist/cli/program.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort()); // stop after the current batch
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); }); // `| head`
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
process.exitCode = await run(process.argv.slice(2), io);
