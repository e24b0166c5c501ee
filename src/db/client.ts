/**
 * One database type, two drivers: PostgreSQL through `postgres` when DATABASE_URL is set,
 * embedded PGlite otherwise. Migrations from drizzle/ are applied at open.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { ensurePrivateDir, privatizeTree } from '../private-dir.js';
import { lockDataDir } from './data-dir-lock.js';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface Database {
  db: Db;
  driver: 'pglite' | 'postgres';
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** An already open PGlite (tests start from a migrated snapshot). */
  pglite?: PGlite;
  /** Connections in the postgres pool. */
  poolSize?: number;
}

/**
 * A statement built on first use and kept: drizzle spends several times longer building a query
 * than PostgreSQL spends running it (measured: 420 µs of CPU built, 85 µs prepared, for the
 * principal lookup), and a turn runs a dozen. Values go in as `sql.placeholder(name)`.
 * Prepared on `db`, so never inside a transaction.
 */
export function builtOnce<T>(build: () => T): () => T {
  let statement: T | undefined;
  return () => (statement ??= build());
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  return openPglite(options);
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const client = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 5,
    // Intake must fail fast when the database is gone, so that the platform retries later.
    idle_timeout: 30,
  });
  const db = drizzlePostgres(client, { schema });
  await migratePostgres(db, { migrationsFolder });
  return {
    db: db as unknown as Db,
    driver: 'postgres',
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: () => client.end({ timeout: 5 }),
  };
}

// PGlite (a WASM PostgreSQL) is loaded only when it is used, so a PostgreSQL deployment doesn't carry it.
async function openPglite(options: OpenOptions): Promise<Database> {
  if (!options.pglite) ensurePrivateDir(options.dataDir);
  const lock = options.pglite ? null : lockDataDir(options.dataDir);
  try {
    const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }, { vector }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
      import('@electric-sql/pglite-pgvector'),
    ]);
    const pgdata = join(options.dataDir, 'pgdata');
    if (!options.pglite) await initPgliteCluster(pgdata, PGlite.defaultStartParams);
    // pgvector is offered always (its CREATE EXTENSION runs only with an embedding model, vector.ts):
    // a data directory that has it must open with it.
    const client =
      options.pglite ?? (await PGlite.create(pgdata, { startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS], extensions: { vector } }));
    const db = drizzlePglite(client, { schema });
    await migratePglite(db, { migrationsFolder });
    if (!options.pglite) privatizeTree(options.dataDir);
    return {
      db: db as unknown as Db,
      driver: 'pglite',
      ping: async () => {
        await client.query('select 1');
      },
      close: async () => {
        try {
          if (!options.pglite) await client.close();
        } finally {
          if (!options.pglite) privatizeTree(options.dataDir);
          lock?.release();
        }
      },
    };
  } catch (err) {
    lock?.release();
    throw err;
  }
}

/**
 * Settings of the embedded PostgreSQL. PGlite keeps PostgreSQL's defaults, sized for a server, and
 * its WASM heap touches all of shared_buffers at start: 128 MB of buffers cost ~130 MB of RSS on
 * every start. One connection and a small database need far less (measured with
 * `npm run bench -- startup`: settled RSS 426 → ~300 MB). maintenance_work_mem bounds index builds
 * in migrations.
 */
export const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB', '-c', 'maintenance_work_mem=16MB'];

/**
 * A new data directory is made (initdb) in a short-lived child process. In-process, PGlite runs
 * initdb in a second PGlite and a third WASM module and copies the result across: ~750 MB of RSS at
 * the peak, and ~300 MB of it never returned, for the life of the service. Once the child exits,
 * all of it is gone; later starts find PG_VERSION and skip this.
 */
async function initPgliteCluster(pgdata: string, defaultStartParams: string[]): Promise<void> {
  if (existsSync(join(pgdata, 'PG_VERSION'))) return;
  const pglite = import.meta.resolve('@electric-sql/pglite');
  // Plain JavaScript, no TypeScript loader: the same in `npm start` and in the compiled build.
  const script = `const [url, dir, params] = JSON.parse(process.argv[1]);
const { PGlite } = await import(url);
const pg = await PGlite.create(dir, { startParams: params });
await pg.close();`;
  try {
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, JSON.stringify([pglite, pgdata, [...defaultStartParams, ...PGLITE_SETTINGS]])], {
      maxBuffer: 4 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-5).join('\n');
    throw new Error(`could not create the embedded database in ${pgdata}: ${stderr || (err as Error).message}`, { cause: err });
  }
}
