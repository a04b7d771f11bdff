import { existsSync } from 'node:fs';
import { CHROMIUM, SHARED } from '../helpers.js';

/**
 * The full tier needs the shared test data (../shared: the seed models, the dash-cam frames, the reference
 * maps) and Debian's Chromium (the report page test). Without either it fails at once, saying which is
 * missing and how to get it: it never skips.
 */
export default function requirements(): void {
  const missing: string[] = [];
  if (!existsSync(SHARED)) missing.push(`the shared test data at ${SHARED} (the project's ../shared: seed models, dash-cam frames, reference maps)`);
  if (!existsSync(CHROMIUM)) missing.push(`Chromium at ${CHROMIUM} for the report page test (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  if (missing.length) {
    throw new Error(`npm run test:all needs ${missing.join(' and ')}. Without them, run the fast tier: npm test`);
  }
}
