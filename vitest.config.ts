import { defineConfig } from 'vitest/config';

/**
 * The fast tier (`npm test`): unit tests, the CLI in-process and as a subprocess, the examples, and the
 * embedded model on the fixtures. It needs nothing outside the repository. The full tier
 * (`npm run test:all`, vitest.full.config.ts) adds test/full/: the golden tests on ../shared and the
 * report page in Chromium.
 */
export const common = {
  // the heavy tests start their own inference worker threads: run files one at a time on 2 cores
  fileParallelism: false,
  testTimeout: 300_000,
  hookTimeout: 300_000,
  reporters: ['default'],
  setupFiles: ['test/setup.ts'],
  // GitHub's workflow parser imports its JSON schema without an import attribute, which Node refuses:
  // let vite load it (test/scale-docs.test.ts)
  server: { deps: { inline: ['@actions/workflow-parser'] } },
};

export default defineConfig({
  test: { ...common, include: ['test/*.test.ts'] },
});
