// eslint: typescript-eslint's type-aware recommended rules on the TypeScript (src, test, bench, soak),
// the plain recommended rules on the JavaScript (build scripts, the web pages' scripts). `npm run lint`
// allows no warning.

import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', '.tmp/', '.tmp-*/'] },
  js.configs.recommended,
  // A `let` read by a closure before its one assignment (wiring done in two steps) stays a `let`.
  { rules: { 'prefer-const': ['error', { ignoreReadBeforeAssign: true }] } },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name`: a value left out on purpose (a destructured field dropped, a loop that only counts).
      // Stores implement async interfaces with synchronous code (SQLite, memory): `async` keeps their throws
      // rejections, as the interface promises, where a rule asking for an `await` would have them removed.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Tests read JSON replies as loosely typed values on purpose: the chai assertion on them is the check.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Test helpers hand out objects of arrow functions typed as methods, destructured at the call site.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['src/web/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
);
