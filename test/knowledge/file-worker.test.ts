/**
 * The file worker's bounds, on a real database (the job store's claim, failure and completion):
 * a file whose platform keeps failing is tried a bounded number of times, then recorded as skipped
 * with its reason and never tried again; a file deleted while it is being read stores nothing.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Scope } from '../../src/core/identity.js';
import { startFileWorker } from '../../src/core/knowledge/file-worker.js';
import type { FileJobInput, FileReadOutcome, FileText } from '../../src/core/ports.js';
import { createKnowledgeStore } from '../../src/db/knowledge-store.js';
import { knowledgeChunks, knowledgeFileJobs, workspaces } from '../../src/db/schema.js';
import { createLogger } from '../../src/log.js';
import { drivers, useDatabaseWith } from '../support/db.js';
import { waitFor } from '../support/wait.js';

const job = (id: string): FileJobInput => ({
  place: { channel: { id: 'C0KFWRK001', kind: 'channel' }, dmOwnerUserId: null },
  file: { id, name: `${id}.txt`, mimetype: 'text/plain' },
  threadId: null,
  authorId: 'U0ACMEOWN1',
  at: new Date(),
  permalink: null,
});

describe.each(drivers)('file worker bounds (%s)', (driver) => {
  const ctx = useDatabaseWith(driver, async (db) => {
    const [ws] = await db.db.insert(workspaces).values({ platform: 'slack', externalId: 'T0KFWRK001' }).returning();
    return { scope: { workspaceId: ws!.id, platform: 'slack' } as Scope };
  });
  const row = async (id: string) => (await ctx.db.db.select().from(knowledgeFileJobs).where(eq(knowledgeFileJobs.fileId, id)))[0];

  it('a file that keeps failing is tried maxAttempts times, then skipped with its reason, never again', async () => {
    const store = createKnowledgeStore(ctx.db.db, { vector: false });
    await store.storeBatch(ctx.scope, { sources: [], files: [job('F0KFFAIL01')] });
    let reads = 0;
    const fileText: FileText = { read: async (): Promise<FileReadOutcome> => ({ kind: 'failed', reason: `Slack files.info: internal_error ${++reads}` }) };
    const worker = startFileWorker({ store, fileText, log: createLogger('silent'), workerId: 'w1', leaseMs: 60_000, idleMs: 10, retryMs: 0, maxAttempts: 3 });
    try {
      const done = await waitFor(async () => ((await row('F0KFFAIL01'))?.status === 'skipped' ? row('F0KFFAIL01') : null));
      expect(done).toMatchObject({ attempts: 3, reason: 'it could not be read after 3 tries (Slack files.info: internal_error 3)' });
      expect(reads).toBe(3);
      // Skipped for good: never due again, for any worker.
      expect(await store.claimFileJob('w-other', 60_000)).toBeNull();
      // Found by its name still.
      expect((await ctx.db.db.select().from(knowledgeChunks).where(eq(knowledgeChunks.sourceId, 'F0KFFAIL01'))).map((c) => c.content)).toEqual(['File "F0KFFAIL01.txt" (its text was not read)']);
    } finally {
      await worker.stop();
    }
  });

  it('a file deleted while it is being read stores nothing', async () => {
    const store = createKnowledgeStore(ctx.db.db, { vector: false });
    await store.storeBatch(ctx.scope, { sources: [], files: [job('F0KFDEL001')] });
    let release!: () => void;
    let reading!: () => void;
    const started = new Promise<void>((r) => (reading = r));
    const fileText: FileText = {
      read: async () => {
        reading();
        await new Promise<void>((r) => (release = r));
        return { kind: 'text', text: 'canary-deleted-midway', bytes: 21 };
      },
    };
    // The worker's own account of each read (what it logs), to wait for this one's end.
    const logged: Array<Record<string, unknown>> = [];
    const log = { debug() {}, warn() {}, error() {}, info: (obj: object) => void logged.push(obj as Record<string, unknown>) };
    const worker = startFileWorker({ store, fileText, log, workerId: 'w2', leaseMs: 60_000, idleMs: 10 });
    try {
      await started;
      expect(await store.deleteFile(ctx.scope, 'F0KFDEL001')).toBe(1);
      release();
      const read = await waitFor(() => logged.find((l) => l.event === 'knowledge.file_read' && l.file === 'F0KFDEL001'));
      expect(read).toMatchObject({ outcome: 'indexed', stored: false });
      expect(await row('F0KFDEL001')).toBeUndefined();
      expect(JSON.stringify(await ctx.db.db.select().from(knowledgeChunks))).not.toContain('canary-deleted-midway');
    } finally {
      await worker.stop();
    }
  });
});
