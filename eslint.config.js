/**
 * A small rule set that a machine checks (issue 14): no unused code, files under ~400 lines and
 * functions under ~80 (blank lines and comments not counted), no promise left floating.
 * Typed linting (no-floating-promises needs types) uses the project's tsconfig.json.
 * Run by `npm run lint` and .ci/run.
 */
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

/**
 * Files whose functions are over the limit today, each being reshaped by someone right now. One
 * entry per file with its reason; remove an entry as soon as its file is split, so the limits
 * hold there too. (Every file is under MAX_FILE_LINES, so only the function limit is lifted.)
 */
const FUNCTION_SIZE_EXCEPTIONS = [
  'src/inbox/worker.ts', // createWorker: being split in issue 14
  'src/model/gate.ts', // createModelGate: being split in issue 14
  'src/db/turn-store.ts', // createTurnStore: being split in issue 14
  'src/db/inbox-store.ts', // createInboxStore: being split in issue 14 (the fair-intake work)
  'adapters/slack/index.ts', // createSlackAdapter: being split in issue 14
  'adapters/teams/index.ts', // createTeamsAdapter: being split in issue 14
  'adapters/teams/replies.ts', // createReplySink: being split in issue 14 (reply text and caches work)
  'adapters/console/index.ts', // createConsoleAdapter: being split in issue 14
  'adapters/slack/people.ts', // createMembership: 83 lines since the merges of main; one bounded cache for both adapters is issue 14 work
  'src/main.ts', // startQuorum: being split in issue 14 (start-up work)
];

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'drizzle/', '.quorum/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Unused variables, parameters and imports (an import is a variable); `_name` marks one kept on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      'no-unused-labels': 'error',
      'no-unreachable': 'error',
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      'max-lines': ['error', { max: MAX_FILE_LINES, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: MAX_FUNCTION_LINES, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    // A test file is a list of cases: its describe() callbacks hold them all, so the function limit
    // would only measure how many cases there are. The file limit still applies.
    files: ['test/**/*.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
  {
    files: FUNCTION_SIZE_EXCEPTIONS,
    rules: { 'max-lines-per-function': 'off' },
  },
);
