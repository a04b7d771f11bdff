import { defineConfig } from 'vitest/config';
import { common } from './vitest.config.js';

/** The full tier (`npm run test:all`, what .ci/run runs): the fast tier and test/full/ (../shared, Chromium). */
export default defineConfig({
  test: { ...common, include: ['test/*.test.ts', 'test/full/*.test.ts'], globalSetup: ['test/full/requirements.ts'] },
});
