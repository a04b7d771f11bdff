#!/usr/bin/env node
import { run } from '../dist/cli/program.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const code = await run(process.argv.slice(2), {
  stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal,
});
process.exitCode = code;
