// The size check, `npm run check:sizes` (part of `npm test`): no source file over 400 lines and no function over 80,
// counted like `wc -l` (blank lines and comments included). Tests and examples are exempt. An exception is a
// disable comment in the file with a one-line reason after `--`, e.g.
//   /* eslint-disable max-lines -- the route table is one literal, and reads best whole */
//   // eslint-disable-next-line max-lines-per-function -- <reason>
// A comment without a reason, or one that no longer disables anything, fails the check too.
// Only these rules run: this is a size check, not a style linter.
import comments from '@eslint-community/eslint-plugin-eslint-comments';
import tsParser from '@typescript-eslint/parser';

const ALL_LINES = { skipBlankLines: false, skipComments: false };

export default [
  { ignores: ['node_modules/**', 'cdk.out/**', '.local/**', 'coverage/**', 'test/**', '**/examples/**'] },
  {
    files: ['{contract,control,lambdas,lib,local,bin,bench,client,scripts}/**/*.{ts,mts,cts,js,mjs,cjs}'],
    languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error', reportUnusedInlineConfigs: 'error' },
    plugins: { '@eslint-community/eslint-comments': comments },
    rules: {
      'max-lines': ['error', { max: 400, ...ALL_LINES }],
      'max-lines-per-function': ['error', { max: 80, ...ALL_LINES }],
      // Every exception says why; a bare `eslint-disable` (every rule) is not an exception to one limit.
      '@eslint-community/eslint-comments/require-description': 'error',
      '@eslint-community/eslint-comments/no-unlimited-disable': 'error',
    },
  },
];
