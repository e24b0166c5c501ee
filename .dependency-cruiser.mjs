/**
 * Who may import whom (CONVENTIONS.md, "Layout"), checked by dependency-cruiser on src/ and
 * adapters/: `npm run lint`, and test/boundary.test.ts, which also runs these rules on deliberately
 * bad files so that each rule is known to fire. Type-only and side-effect imports count; scripts/
 * is cruised too, for its entry points. Paths are relative to the folder cruised from; an npm
 * package appears as `…node_modules/<name>/…`.
 */
const npm = (names) => `(^|/)node_modules/(${names})(/|$)`;
const DATABASE = npm('drizzle-orm|postgres|@electric-sql/[^/]+');
const LIMITERS = npm('bottleneck|ioredis');
const FILE_READERS = npm('unpdf|mammoth');
const PLATFORM_SDKS = npm('@slack/[^/]+|botbuilder[^/]*|botframework-[^/]+|@microsoft/[^/]+');

/**
 * Files allowed to break one rule for now, one entry each with why; remove an entry once its
 * file is fixed (the rule then holds there too).
 */
const CONFIG_EXCEPTIONS = [
  // `import type { Config }` from src/config.ts: being split in issue 14.
  '^adapters/slack/index\\.ts$',
];

/** Where the code is entered: the service, the npm scripts, the Teams app packager. */
const ENTRY_POINTS = ['^src/main\\.ts$', '^scripts/[^/]+\\.ts$', '^adapters/teams/manifest/package\\.ts$'];

/** Modules nothing reaches yet, one entry each with why; remove an entry once its file is used or gone. */
const UNREACHABLE_EXCEPTIONS = [
  // Used only by tests; both adapters have their own caches: deleted in issue 14.
  '^src/core/access/membership-cache\\.ts$',
];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment: 'src/core is platform-free: it imports only src/core and zod (no Node built-ins, no SDK, no database).',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { pathNot: ['^src/core/', npm('zod')] },
    },
    {
      name: 'src-never-imports-adapters',
      comment: 'db, model, inbox, http (and the rest of src/) build on src/core; only the composition root, src/main.ts, knows the adapters.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^adapters/' },
    },
    {
      name: 'adapters-import-only-core-and-http',
      comment: 'An adapter reaches the rest of the service through src/core ports and mounts routes on src/http: never src/db, src/model, src/inbox or the composition root (config: the next rule).',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^src/', pathNot: ['^src/(core|http)/', '^src/config\\.ts$'] },
    },
    {
      name: 'adapters-never-import-config',
      comment: 'Configuration is parsed in src/config.ts and handed to an adapter by src/main.ts; the adapter declares what it needs.',
      severity: 'error',
      from: { path: '^adapters/', pathNot: CONFIG_EXCEPTIONS },
      to: { path: '^src/config\\.ts$' },
    },
    {
      name: 'adapters-never-import-each-other',
      comment: 'Each platform stands alone: what two adapters share belongs in src/core.',
      severity: 'error',
      from: { path: '^adapters/([^/]+)/' },
      to: { path: '^adapters/', pathNot: '^adapters/$1/' },
    },
    {
      name: 'adapters-no-database',
      comment: 'Adapters reach the database only through core ports.',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: DATABASE },
    },
    {
      name: 'adapters-no-limiters',
      comment: 'Only the model gate (src/model) throttles.',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: LIMITERS },
    },
    {
      name: 'bottleneck-only-in-limiter',
      comment: 'Bottleneck (and the patches it needs) lives behind WorkspaceLimiter in src/limiter/.',
      severity: 'error',
      from: { path: '^(src|adapters)/', pathNot: '^src/limiter/' },
      to: { path: npm('bottleneck') },
    },
    {
      name: 'files-imports-only-core',
      comment: 'src/files reads bytes into text (PDF, DOCX, text, images): it builds on src/core ports only, never the database, a model or a platform.',
      severity: 'error',
      from: { path: '^src/files/' },
      to: { path: '^src/', pathNot: '^src/(core|files)/' },
    },
    {
      name: 'file-readers-only-in-files',
      comment: 'The PDF and Word readers (unpdf, mammoth) live behind extractText in src/files/.',
      severity: 'error',
      from: { path: '^(src|adapters)/', pathNot: '^src/files/' },
      to: { path: FILE_READERS },
    },
    {
      name: 'platform-sdks-only-in-adapters',
      comment: 'Slack and Teams SDKs stay in adapters/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: PLATFORM_SDKS },
    },
    {
      name: 'no-unused-module',
      comment: 'Every module in src/ and adapters/ is reached from an entry point: code nothing runs is deleted, not kept for tests.',
      severity: 'error',
      from: { path: ENTRY_POINTS },
      to: { path: '^(src|adapters)/', pathNot: [...ENTRY_POINTS, ...UNREACHABLE_EXCEPTIONS], reachable: false },
    },
    {
      name: 'resolvable',
      comment: 'An import the checker cannot resolve could hide a forbidden one.',
      severity: 'error',
      from: { path: '^(src|adapters)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // The rules are about the service's TypeScript; JavaScript under adapters/ is served to browsers.
    exclude: { path: '^(src|adapters)/.*\\.(js|mjs|cjs)$' },
    doNotFollow: { path: '(^|/)node_modules/' },
    // `import type` counts: a type from src/db in an adapter couples it to the schema all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
