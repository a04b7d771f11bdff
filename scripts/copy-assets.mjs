// Part of `npm run build`: the report page's CSS and script (src/report/assets) go beside the compiled page.js.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/report/assets', import.meta.url), new URL('../dist/report/assets', import.meta.url), { recursive: true });
