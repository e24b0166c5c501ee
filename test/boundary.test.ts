/** Who may import whom (CONVENTIONS.md): read the sources and fail on a forbidden import. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => (m[1] ?? m[2]) as string,
  );
}

/** Resolves a relative import to a path from the repo root; packages stay as they are. */
function target(file: string, spec: string): string {
  return spec.startsWith('.') ? relative(root, resolve(dirname(file), spec)) : spec;
}

const PLATFORM_SDKS = /^(@slack\/|botbuilder|botframework-|@microsoft\/)/;
const DATABASE = /^(drizzle-orm|postgres$|@electric-sql\/|src\/db\/)/;
const LIMITERS = /^(bottleneck|ioredis)/;

export function violations(): string[] {
  const found: string[] = [];
  for (const file of [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'adapters'))]) {
    const from = relative(root, file);
    for (const spec of importsOf(file)) {
      const to = target(file, spec);
      if (from.startsWith('src/core/')) {
        const allowed = to === 'zod' || to.startsWith('src/core/') || to.startsWith('node:');
        if (!allowed) found.push(`${from} imports ${spec}: the core imports only zod and the core`);
      }
      if (from.startsWith('adapters/')) {
        const platform = from.split('/')[1];
        if (DATABASE.test(to)) found.push(`${from} imports ${spec}: adapters reach the database only through core ports`);
        if (LIMITERS.test(to)) found.push(`${from} imports ${spec}: only the model gate uses limiters`);
        const other = /^adapters\/([^/]+)\//.exec(to)?.[1];
        if (other && other !== platform) found.push(`${from} imports ${spec}: adapters never import each other`);
      }
      if (/^bottleneck/.test(to) && !from.startsWith('src/limiter/')) found.push(`${from} imports ${spec}: Bottleneck lives behind src/limiter (WorkspaceLimiter)`);
      if (!from.startsWith('adapters/') && PLATFORM_SDKS.test(to)) found.push(`${from} imports ${spec}: platform SDKs stay in adapters/`);
    }
  }
  return found;
}

describe('import boundaries', () => {
  it('finds no forbidden import in src/ and adapters/', () => {
    expect(violations()).toEqual([]);
  });

  it('would catch one (the checker itself can fail)', () => {
    expect(importsOf(join(root, 'src/core/envelope.ts'))).toContain('zod');
    expect(DATABASE.test(target(join(root, 'adapters/x/y.ts'), '../../src/db/client.js'))).toBe(true);
    expect(PLATFORM_SDKS.test('@slack/bolt')).toBe(true);
  });
});
