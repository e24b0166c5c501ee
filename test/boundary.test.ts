/**
 * Who may import whom (CONVENTIONS.md): dependency-cruiser with the rules in .dependency-cruiser.mjs
 * (the same run as `npm run lint`) finds no forbidden import in src/ and adapters/, and, run on a
 * tree of deliberately bad files, reports each rule exactly where it is broken and nowhere else.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** Cruises src/ and adapters/ under `baseDir` with the project's rules; one line per violation. */
async function violations(baseDir: string): Promise<string[]> {
  const options = await extractDepcruiseOptions(join(root, '.dependency-cruiser.mjs'));
  const tsConfig = extractTSConfig(join(root, 'tsconfig.json'));
  // scripts/ is cruised as an entry point (no-unused-module); the layering rules cover src/ and adapters/.
  const dirs = ['src', 'adapters', 'scripts'].filter((dir) => existsSync(join(baseDir, dir)));
  const { output } = await cruise(dirs, { ...options, baseDir, outputType: 'json' }, {}, { tsConfig });
  const result = (typeof output === 'string' ? JSON.parse(output) : output) as ICruiseResult;
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, 'npm:$1')}`).sort();
}

/** One bad import per rule (static, side-effect, type-only and dynamic), beside imports that are fine. */
const badTree: Record<string, string> = {
  'src/core/envelope.ts': `import { z } from 'zod';\nimport { other } from './other.js';\nexport const id = z.string().or(z.literal(other));\n`,
  'src/core/other.ts': `export const other = 'x';\n`,
  // A side-effect import and an unresolvable one.
  'src/core/leak.ts': `import '../db/store.js';\nimport './missing.js';\nexport {};\n`,
  'src/core/builtin.ts': `import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n`,
  // A type-only import of an adapter from the database layer.
  'src/db/store.ts': `import type { Thing } from '../../adapters/slack/thing.js';\nimport { id } from '../core/envelope.js';\nexport const store = (t: Thing) => id.parse(t);\n`,
  'src/model/gate.ts': `import Bottleneck from 'bottleneck';\nexport const gate = Bottleneck;\n`,
  // The file readers: only src/files may use them, and src/files builds on src/core alone.
  'src/model/pdf.ts': `import { extractText } from 'unpdf';\nexport const pdf = extractText;\n`,
  'src/files/read.ts': `import mammoth from 'mammoth';\nimport { id } from '../core/envelope.js';\nimport { store } from '../db/store.js';\nexport const read = [mammoth, id, store];\n`,
  'src/inbox/worker.ts': `export const worker = 1;\n`,
  'src/config.ts': `export type Config = { a: string };\n`,
  'src/http/server.ts': `import '@slack/bolt';\nimport { createServer } from 'node:http';\nexport const server = createServer;\n`,
  // The composition root may wire adapters; it reaches every file but one.
  'src/main.ts': [
    `import { thing } from '../adapters/slack/thing.js';`,
    `import { bot } from '../adapters/teams/bot.js';`,
    `import { worker } from './inbox/worker.js';`,
    `import './core/leak.js';`,
    `import { r } from './core/builtin.js';`,
    `import { pdf } from './model/pdf.js';`,
    `import { read } from './files/read.js';`,
    `export const main = [thing, bot, worker, r, pdf, read];`,
  ].join('\n'),
  // Nothing imports it.
  'src/core/unused.ts': `export const unused = 1;\n`,
  'adapters/slack/thing.ts': [
    `import { App } from '@slack/bolt';`,
    `import { id } from '../../src/core/envelope.js';`,
    `import { server } from '../../src/http/server.js';`,
    `import { gate } from '../../src/model/gate.js';`,
    `import { sql } from 'drizzle-orm';`,
    `import Bottleneck from 'bottleneck';`,
    `export type Thing = string;`,
    `export const thing = [App, id, server, gate, sql, Bottleneck];`,
  ].join('\n'),
  'adapters/teams/bot.ts': [
    `import type { Config } from '../../src/config.js';`,
    `import { thing } from '../slack/thing.js';`,
    `export const bot = async (c: Config) => [c, thing, (await import('../../src/inbox/worker.js')).worker];`,
  ].join('\n'),
};

const expected = [
  'adapters-import-only-core-and-http: adapters/slack/thing.ts -> src/model/gate.ts',
  'adapters-import-only-core-and-http: adapters/teams/bot.ts -> src/inbox/worker.ts',
  'adapters-never-import-config: adapters/teams/bot.ts -> src/config.ts',
  'adapters-never-import-each-other: adapters/teams/bot.ts -> adapters/slack/thing.ts',
  'adapters-no-database: adapters/slack/thing.ts -> npm:drizzle-orm',
  'adapters-no-limiters: adapters/slack/thing.ts -> npm:bottleneck',
  'bottleneck-only-in-limiter: adapters/slack/thing.ts -> npm:bottleneck',
  'bottleneck-only-in-limiter: src/model/gate.ts -> npm:bottleneck',
  'core-imports-only-core: src/core/builtin.ts -> fs',
  'core-imports-only-core: src/core/leak.ts -> ./missing.js',
  'core-imports-only-core: src/core/leak.ts -> src/db/store.ts',
  'file-readers-only-in-files: src/model/pdf.ts -> npm:unpdf',
  'files-imports-only-core: src/files/read.ts -> src/db/store.ts',
  'no-unused-module: src/core/unused.ts -> src/core/unused.ts',
  'platform-sdks-only-in-adapters: src/http/server.ts -> npm:@slack/bolt',
  'resolvable: src/core/leak.ts -> ./missing.js',
  'src-never-imports-adapters: src/db/store.ts -> adapters/slack/thing.ts',
];

describe('import boundaries', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('finds no forbidden import in src/ and adapters/', async () => {
    expect(await violations(root)).toEqual([]);
  });

  it('reports every rule on a tree of deliberately bad files, and nothing that is allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'quorum-layering-'));
    dirs.push(dir);
    for (const [path, text] of Object.entries(badTree)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    // Packages resolve as they do in the project, so the npm rules see real paths.
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const found = await violations(dir);
    expect(found).toEqual(expected);
    const rules = (await extractDepcruiseOptions(join(root, '.dependency-cruiser.mjs'))).ruleSet?.forbidden?.map((r) => r.name);
    expect(new Set(found.map((line) => line.split(':')[0]))).toEqual(new Set(rules));
  });
});
