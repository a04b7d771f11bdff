import { afterAll } from 'vitest';
import { removeTmpdirs } from './helpers.js';

// every test file's temporary folders go when the file is done (OCCLUDE_KEEP_TMP=1 keeps them to look at)
afterAll(removeTmpdirs);
