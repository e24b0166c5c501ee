/**
 * Runs once before all test files: a migrated PGlite snapshot (booting and migrating PGlite
 * takes seconds, loading a snapshot a fraction of that), and, when DATABASE_URL is set, a
 * migrated PostgreSQL template database that each test file clones; and whether Redis answers
 * at REDIS_URL (tests that need it are skipped otherwise, and listed at the end of the run).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase, PGLITE_SETTINGS } from '../../src/db/client.js';
import { redisAnswers } from './redis-probe.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteSnapshot: string;
    postgresTemplate: string | null;
    /** REDIS_URL when it is set and Redis answered PING; null otherwise. */
    redisUrl: string | null;
  }
}

export const TEMPLATE_DB = `quorum_template_${process.pid}`;

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-test-'));
  const pglite = await PGlite.create({ startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS], extensions: { vector } });
  const migrated = await openDatabase({ dataDir: dir, pglite });
  await migrated.close();
  const dump = await pglite.dumpDataDir('none');
  const file = join(dir, 'snapshot.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await pglite.close();
  project.provide('pgliteSnapshot', file);

  let template: string | null = null;
  const url = process.env.DATABASE_URL;
  if (url) {
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${TEMPLATE_DB}`);
    await admin.unsafe(`create database ${TEMPLATE_DB}`);
    const templateUrl = withDatabase(url, TEMPLATE_DB);
    const db = await openDatabase({ databaseUrl: templateUrl, dataDir: dir, poolSize: 1 });
    await db.close();
    template = TEMPLATE_DB;
    await admin.end();
  }
  project.provide('postgresTemplate', template);
  project.provide('redisUrl', (await redisAnswers(process.env.REDIS_URL)) ? process.env.REDIS_URL! : null);

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    if (url && template) {
      const admin = postgres(url, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${template} with (force)`).catch(() => {});
      await admin.end();
    }
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
