/**
 * The production build: `npm run build` compiles to dist/ and `npm run start:prod` runs it, with
 * the migrations and assets (the console's demo.json) found beside it, in development and in
 * production, ready, and stopped cleanly on SIGTERM. And the mistakes an operator makes first
 * (no platform in production, a port already taken) end with one line, not a stack trace.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inbox } from '../src/db/schema.js';
import { COMPILED_ENTRY, repoRoot, startChild, type Child } from './support/child.js';
import { openTestDatabase, seededDataDir, type TestDatabase } from './support/db.js';

const KEY = Buffer.alloc(32, 5).toString('base64');
/** Teams with credentials: a platform that needs no network at start. */
const TEAMS = { MICROSOFT_APP_ID: '00000000-0000-0000-0000-0000000000b1', MICROSOFT_APP_PASSWORD: 'not-a-real-secret', MICROSOFT_APP_TENANT_ID: 'tenant-1' };

describe('production build', () => {
  let db: TestDatabase | undefined;
  const children: Child[] = [];
  const dataDir = (name: string) => `/tmp/quorum-build-${process.pid}-${name}`;
  const start = (env: Record<string, string>) => {
    const child = startChild(env, [], COMPILED_ENTRY);
    children.push(child);
    return child;
  };
  beforeAll(() => {
    execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'pipe' });
  }, 180_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await db?.close();
    for (const name of ['dev', 'prod', 'none', 'port']) rmSync(dataDir(name), { recursive: true, force: true });
  });

  it('compiles with its migrations and the non-TypeScript files beside the modules', () => {
    expect(existsSync(join(repoRoot, 'dist/src/main.js'))).toBe(true);
    expect(existsSync(join(repoRoot, 'dist/drizzle/meta/_journal.json'))).toBe(true);
    expect(existsSync(join(repoRoot, 'dist/adapters/console/demo.json'))).toBe(true);
  });

  it('starts from dist/ in development (the default), serving the console', { timeout: 120_000 }, async () => {
    // Migrated already (the production start below applies the migrations itself).
    const child = start({ DATA_DIR: seededDataDir(dataDir('dev')) });
    const url = await child.ready();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/`)).status).toBe(200);
    expect((await (await fetch(`${url}/console/api/demo`)).json()) as object).toHaveProperty('users');
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });

  it('starts from dist/ in production with a platform, applies its migrations, is ready, and stops with exit 0', { timeout: 120_000 }, async () => {
    // A fresh database: the compiled service must apply the migrations itself.
    db = process.env.DATABASE_URL ? await openTestDatabase('postgres') : undefined;
    const child = start({ DATA_DIR: dataDir('prod'), NODE_ENV: 'production', QUORUM_ENCRYPTION_KEY: KEY, ...TEAMS, ...(db?.url ? { DATABASE_URL: db.url } : {}) });
    const url = await child.ready();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('quorum_inbox_depth');
    // No console in production.
    expect((await fetch(`${url}/console/api/demo`)).status).toBe(404);
    // The migrations ran: the inbox exists and is empty.
    if (db) expect(await db.db.select({ rows: count() }).from(inbox)).toEqual([{ rows: 0 }]);
    child.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  });

  it('refuses to start in production with no platform configured, saying so', { timeout: 60_000 }, async () => {
    const child = start({ DATA_DIR: dataDir('none'), NODE_ENV: 'production', QUORUM_ENCRYPTION_KEY: KEY });
    expect(await child.exited).toBe(1);
    expect(child.output()).toMatch(/no platform is configured/);
    expect(child.output()).not.toMatch(/Quorum is up/);
  });

  it('says in one line that the port is taken (no EADDRINUSE stack trace)', { timeout: 120_000 }, async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = String((taken.address() as { port: number }).port);
      const child = start({ DATA_DIR: seededDataDir(dataDir('port')), PORT: port });
      expect(await child.exited).toBe(1);
      const errors = child.output().split('\n').filter((l) => l && !l.startsWith('{'));
      expect(errors).toEqual([`Cannot listen on 127.0.0.1:${port}: the port is already in use (another Quorum?). Stop that process or set PORT to a free port.`]);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
