/**
 * A fresh database per test file: PGlite from the migrated snapshot always, and PostgreSQL
 * (a clone of the migrated template) as well when DATABASE_URL is set.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openDatabase, PGLITE_SETTINGS, type Database } from '../../src/db/client.js';
import { withDatabase } from './global-setup.js';
import { useSetup, type Cleanup } from './setup.js';

export type Driver = 'pglite' | 'postgres';

/** The drivers this run covers: PGlite always, PostgreSQL when DATABASE_URL is set. */
export const drivers: Driver[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase extends Database {
  /** PostgreSQL URL of this file's own database (null on PGlite). */
  url: string | null;
  pglite: PGlite | null;
}

/**
 * With the service's own settings (the defaults' 128 MB of shared buffers make each open ~1.5x as
 * long) and pgvector, as the service opens PGlite: tests that set EMBEDDING_MODEL get vector search.
 */
export async function openPgliteFromSnapshot(): Promise<PGlite> {
  const snapshot = readFileSync(inject('pgliteSnapshot'));
  return PGlite.create({ loadDataDir: new Blob([snapshot]), startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS], extensions: { vector } });
}

/**
 * A DATA_DIR (`dir`, made if missing, else a new one) whose embedded database is the migrated
 * snapshot, for a process that opens PGlite on disk itself (the service as a child process, an
 * operator script): it opens in about a second, where a new folder costs a database created in a
 * child process and every migration applied. Tests of creating or migrating one use a new folder.
 */
export function seededDataDir(dir = mkdtempSync(join(tmpdir(), 'quorum-seeded-'))): string {
  const pgdata = join(dir, 'pgdata');
  mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  try {
    // The snapshot is a tar of the data folder (PGlite's dumpDataDir); its names start with '/'.
    execFileSync('tar', ['-xf', inject('pgliteSnapshot'), '-C', pgdata], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(`could not unpack the migrated snapshot into ${pgdata}: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message)}`, { cause: err });
  }
  return dir;
}

export async function createPostgresDatabase(): Promise<string> {
  const base = process.env.DATABASE_URL;
  const template = inject('postgresTemplate');
  if (!base || !template) throw new Error('DATABASE_URL is not set');
  const name = `quorum_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${template}`);
  } finally {
    await admin.end();
  }
  return withDatabase(base, name);
}

export async function dropPostgresDatabase(url: string): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) return;
  const name = new URL(url).pathname.slice(1);
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

export async function openTestDatabase(driver: Driver): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const pglite = await openPgliteFromSnapshot();
    const db = await openDatabase({ dataDir: tmpdir(), pglite });
    return {
      ...db,
      url: null,
      pglite,
      close: async () => {
        await db.close();
        await pglite.close();
      },
    };
  }
  const url = await createPostgresDatabase();
  const db = await openDatabase({ databaseUrl: url, dataDir: tmpdir(), poolSize: 5 });
  return {
    ...db,
    url,
    pglite: null,
    close: async () => {
      await db.close();
      await dropPostgresDatabase(url);
    },
  };
}

/**
 * This describe block's database and whatever `start` starts on it, undone after its tests
 * (what `start` registered first, then the database closed). Read the fields inside tests.
 */
export function useDatabaseWith<T extends object>(driver: Driver, start: (db: TestDatabase, cleanup: Cleanup) => Promise<T>): { db: TestDatabase } & T {
  return useSetup(async (cleanup) => {
    const db = await openTestDatabase(driver);
    cleanup(() => db.close());
    return { db, ...(await start(db, cleanup)) };
  });
}

/** This file's database, opened before its tests and closed after them: call the getter inside a test. */
export function useTestDatabase(driver: Driver): () => TestDatabase {
  const ctx = useDatabaseWith(driver, async () => ({}));
  return () => ctx.db;
}

/**
 * A database an operator script (a child process) opens from the environment: PostgreSQL by
 * DATABASE_URL, or PGlite on disk in DATA_DIR (a script cannot open the test's in-memory one).
 */
export async function openScriptDatabase(driver: Driver): Promise<{ database: Database; env: Record<string, string>; close: () => Promise<void> }> {
  if (driver === 'postgres') {
    const db = await openTestDatabase(driver);
    return { database: db, env: { DATABASE_URL: db.url! }, close: () => db.close() };
  }
  const dir = seededDataDir(mkdtempSync(join(tmpdir(), 'quorum-script-')));
  const database = await openDatabase({ dataDir: dir });
  return { database, env: { DATA_DIR: dir }, close: () => database.close() };
}
