/**
 * `/agent audit export DAYS` and the signed chain head: the file reaches the admin privately
 * (the console's download link, a Slack DM upload), verifies with `npm run audit:verify -- --file`
 * outside Quorum, and a chain someone rebuilt in the database without the signing key (every hash
 * recomputed consistently) fails verification, in the database and in a file exported after.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditSigningKey } from '../../src/db/audit-signing.js';
import { verifyExportFile } from '../../src/db/audit-export.js';
import { entryHash, GENESIS_HASH } from '../../src/db/audit-store.js';
import { verifyAllChains } from '../../src/db/audit-verify.js';
import type { Db } from '../../src/db/client.js';
import { auditHeads, auditLog, workspaces } from '../../src/db/schema.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { ENCRYPTION_KEY, slashCommand, startSlackApp } from '../slack/support.js';

const run = promisify(execFile);
const KEY = auditSigningKey({ encryptionKey: Buffer.from(ENCRYPTION_KEY, 'base64') });

/** The real script on a file; the exit code and output are the result. */
async function verifyFileScript(path: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', '--file', path], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', DATA_DIR: mkdtempSync(join(tmpdir(), 'quorum-verify-')), ...env },
      timeout: 60_000,
    });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

const saveFile = (content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'quorum-export-')), 'export.jsonl');
  writeFileSync(path, content);
  return path;
};

/**
 * What someone with write access to the database but not the key can do: change an entry, then
 * recompute every hash after it and the head, so that every link holds again.
 */
async function rebuildChain(db: Db, workspaceId: string): Promise<void> {
  const rows = await db.select().from(auditLog).where(eq(auditLog.workspaceId, workspaceId)).orderBy(asc(auditLog.seq));
  let prev = GENESIS_HASH;
  for (const row of rows) {
    const detail = row.action === 'admin_change' ? { ...row.detail, new: 'forged' } : row.detail;
    const hash = entryHash(prev, { ...row, detail } as Parameters<typeof entryHash>[1]);
    await db.update(auditLog).set({ detail, prevHash: prev, hash }).where(and(eq(auditLog.workspaceId, workspaceId), eq(auditLog.seq, row.seq)));
    prev = hash;
  }
  await db.update(auditHeads).set({ hash: prev }).where(eq(auditHeads.workspaceId, workspaceId));
}

describe.each(drivers)('audit export through the console, signed heads (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  const { command } = consoleSpeaker(() => app);

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    app = await startTestApp(db, { env: { QUORUM_ENCRYPTION_KEY: ENCRYPTION_KEY } });
    await command('ava', '/agent limit rpm 60');
    await command('ben', '/agent instructions Be brief.');
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  const download = async (answer: string) => {
    const link = /\]\((\/console\/files\/[^)\s]+)\)/.exec(answer)?.[1];
    expect(link).toBeDefined();
    const res = await fetch(`${app.baseUrl}${link}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="quorum-audit-demo-\d{4}-\d\d-\d\d\.jsonl"$/);
    return res.text();
  };

  it('gives the admin a file that verifies outside Quorum, with the key and without it', async () => {
    const answer = await command('ava', '/agent audit export 30d');
    expect(answer).toMatch(/^Download the audit trail of the last 30 days \(\d+ entries\): /);
    const content = await download(answer);
    const lines = content.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'quorum-audit-export', version: 1 });
    expect(lines.at(-1)).toMatchObject({ type: 'head', signature: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(lines.filter((l) => l.type === 'entry').map((l) => l.detail.setting).filter(Boolean)).toEqual(['rpm', 'instructions']);
    expect(verifyExportFile(content, KEY)).toMatchObject({ ok: true, signature: 'valid' });

    const path = saveFile(content);
    const withKey = await verifyFileScript(path, { QUORUM_ENCRYPTION_KEY: ENCRYPTION_KEY });
    expect(withKey.code).toBe(0);
    expect(withKey.out).toMatch(/entries, head signature valid/);
    const without = await verifyFileScript(path, {});
    expect(without.code).toBe(0);
    expect(without.out).toContain('head signature NOT checked');

    // Another user's link, a member's request: nothing.
    const link = /(\/console\/files\/[^?\s)]+)/.exec(answer)![1];
    expect((await fetch(`${app.baseUrl}${link}?user=cleo`)).status).toBe(404);
    expect(await command('cleo', '/agent audit export 30d')).toMatch(/admin/i);
  }, 120_000);

  it('a file edited after export fails, naming the line', async () => {
    const content = await download(await command('ava', '/agent audit export 7d'));
    const forged = content.replace('"new":"60"', '"new":"6000"');
    expect(forged).not.toBe(content);
    expect(verifyExportFile(forged, KEY)).toMatchObject({ ok: false, reason: 'entry was changed' });
    const cut = content.trim().split('\n').slice(0, -2).join('\n');
    expect(verifyExportFile(cut, KEY)).toMatchObject({ ok: false });
  });

  it('a chain rebuilt in the database without the key fails verification, in the database and in a new export', async () => {
    const [ws] = await db.db.select().from(workspaces).where(eq(workspaces.externalId, 'demo'));
    expect((await verifyAllChains(db.db, KEY)).every((r) => r.ok)).toBe(true);
    await rebuildChain(db.db, ws!.id);
    // Every link holds: without the key nothing shows.
    expect((await verifyAllChains(db.db)).every((r) => r.ok)).toBe(true);
    const [report] = (await verifyAllChains(db.db, KEY)).filter((r) => r.workspaceId === ws!.id);
    expect(report).toMatchObject({ ok: false, reason: 'head signature does not match (rebuilt without the signing key?)' });

    // A file exported now ends on the forged head, which the forger could not sign.
    const content = await download(await command('ava', '/agent audit export 30d'));
    expect(verifyExportFile(content, KEY)).toMatchObject({ ok: false, reason: 'head signature does not match (rebuilt without the signing key?)' });
    const script = await verifyFileScript(saveFile(content), { QUORUM_ENCRYPTION_KEY: ENCRYPTION_KEY });
    expect(script.code).toBe(1);
    expect(script.out).toMatch(/^BROKEN .* head signature does not match/);
    // Quorum never signs over a head whose signature does not hold: later entries leave the head
    // unsigned, so the break stays visible.
    await command('ava', '/agent limit rpm 61');
    expect((await verifyAllChains(db.db, KEY)).find((r) => r.workspaceId === ws!.id)).toMatchObject({ ok: false, reason: 'head is not signed' });
  }, 120_000);
});

describe.each(drivers)('audit export over Slack: a signed slash command, the file in the admin\'s DM (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    app = await startSlackApp(db, api);
  });
  afterAll(async () => {
    await app?.stop();
    await api?.stop();
    await db?.close();
  });

  const slash = (fixture: string, text: string) => slashCommand(app, text, { fixture });

  it('uploads the export into the DM of the admin who asked, where it verifies', async () => {
    // agent_limit: Marcus, an admin, in a private channel.
    await slash('agent_limit', 'limit rpm 60');
    const answer = await slash('agent_limit', 'audit export 30d');
    expect(answer.response_type).toBe('ephemeral');
    expect(answer.text).toMatch(/^Sent you the audit trail of the last 30 days \(\d+ entries\) in a direct message: quorum-audit-T0ACME0001-/);
    expect(api.sharedFiles).toHaveLength(1);
    const [file] = api.sharedFiles;
    expect(file!.channel).toBe('D0ACMEADM1');
    expect(api.called('conversations.open').at(-1)!.params.users).toBe('U0ACMEADM1');
    expect(verifyExportFile(file!.content!, KEY)).toMatchObject({ ok: true, signature: 'valid' });
    expect(file!.content).toContain('"setting":"rpm"');

    // A member is refused and nothing is uploaded.
    const refused = await slash('agent_help', 'audit export 30d');
    expect(refused.text).toMatch(/admin/i);
    expect(api.sharedFiles).toHaveLength(1);
  }, 60_000);
});
