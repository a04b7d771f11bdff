// ESLint (flat config): TypeScript (typescript-eslint's recommended rules), the Node scripts, the report
// page's browser script and its CSS. `npm run lint`; CI runs it.
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import css from '@eslint/css';
import globals from 'globals';

export default defineConfig(
  { ignores: ['**/dist/', 'node_modules/', 'coverage/', 'ci-results/', 'bench/out/', 'out/'] },
  {
    files: ['**/*.{ts,js,mjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: {
      // `_name`: deliberately unused (a destructured field left out, a callback's argument)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // the report page's script runs in the browser, as a classic script inlined in the page
    files: ['src/report/assets/page.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
  },
  {
    files: ['**/*.css'],
    language: 'css/css',
    plugins: { css },
    extends: ['css/recommended'],
  },
);
