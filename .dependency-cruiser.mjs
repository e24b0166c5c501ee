/**
 * Who may import whom (CONVENTIONS.md, "Layout"), checked by dependency-cruiser on src/ and
 * adapters/: `npm run lint`, and test/boundary.test.ts, which also runs these rules on deliberately
 * bad files so that each rule is known to fire. Type-only and side-effect imports count.
 * Paths are relative to the folder cruised from; an npm package appears as `…node_modules/<name>/…`.
 */
const npm = (names) => `(^|/)node_modules/(${names})(/|$)`;
const DATABASE = npm('drizzle-orm|postgres|@electric-sql/[^/]+');
const LIMITERS = npm('bottleneck|ioredis');
const PLATFORM_SDKS = npm('@slack/[^/]+|botbuilder[^/]*|botframework-[^/]+|@microsoft/[^/]+');

/**
 * Files allowed to break one rule for now, one entry each with why; remove an entry once its
 * file is fixed (the rule then holds there too).
 */
const CONFIG_EXCEPTIONS = [
  // `import type { Config }` from src/config.ts: being split in issue 14.
  '^adapters/slack/index\\.ts$',
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
      name: 'platform-sdks-only-in-adapters',
      comment: 'Slack and Teams SDKs stay in adapters/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: PLATFORM_SDKS },
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
