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
 * Files with one factory over the function limit: each is a closure whose methods share state (a
 * cache, a timer, a connection) and returns them as one object, so the rule counts every method.
 * Each method is under the limit; splitting the factory is open work (named in the issue notes).
 * Remove an entry as soon as its factory is split, so the limit holds there too. Every file is under
 * MAX_FILE_LINES, so only the function limit is lifted.
 */
const FUNCTION_SIZE_EXCEPTIONS = [
  'src/inbox/worker.ts', // createWorker (192 lines): claim loop, leases, timers, shutdown
  'src/model/gate.ts', // createModelGate (209): limiter, budget, retries, breakers, fallback per call
  'src/db/inbox-store.ts', // createInboxStore (112): prepared statements and group commits shared by its methods
  'adapters/slack/index.ts', // createSlackAdapter (108): Bolt app, receivers, clients and ports wired together
  'adapters/teams/index.ts', // createTeamsAdapter (181): botbuilder adapter, auth, routes and ports wired together
  'adapters/teams/replies.ts', // createReplySink (152): status, stream and long-reply paths over one cache
  'adapters/console/index.ts', // createConsoleAdapter (122): routes and views over one transcript
  'src/main.ts', // startQuorum (166): the composition root
  'src/db/tool-store.ts', // createToolConnectionStore (120): one small method per query, audited transactions, over one db
  'src/tools/connected-tools.ts', // createConnectedTools (147): session pool, discovery and the governed call share the pool and the guards
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
