/**
 * Checks every workspace's audit chain: each link (verifyAuditChain) and the head row, which
 * catches deleting the newest entries (a chain that is merely shorter still links up).
 */
import { eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { verifyAuditChain } from './audit-store.js';
import { auditHeads, auditLog, workspaces } from './schema.js';
import { scopeOf } from './turn-store.js';
import { desc } from 'drizzle-orm';
import { signatureHolds } from './audit-signing.js';

export interface WorkspaceChainReport {
  workspaceId: string;
  platform: string;
  externalId: string;
  entries: number;
  ok: boolean;
  brokenAtSeq?: number;
  reason?: string;
}

/**
 * With `key` (the audit signing key), each head must also carry its valid signature: a chain
 * rebuilt by someone who could write to the database but had no key fails here.
 */
export async function verifyAllChains(db: Db, key: Buffer | null = null): Promise<WorkspaceChainReport[]> {
  const all = await db
    .select({ id: workspaces.id, platform: workspaces.platform, externalId: workspaces.externalId })
    .from(workspaces)
    .orderBy(workspaces.createdAt);
  const reports: WorkspaceChainReport[] = [];
  for (const ws of all) {
    const scope = scopeOf(ws);
    const base = { workspaceId: ws.id, platform: ws.platform, externalId: ws.externalId };
    const check = await verifyAuditChain(db, scope);
    if (!check.ok) {
      reports.push({ ...base, entries: check.entries, ok: false, brokenAtSeq: check.brokenAtSeq, reason: check.reason });
      continue;
    }
    const [head] = await db.select().from(auditHeads).where(eq(auditHeads.workspaceId, ws.id));
    const [last] = await db
      .select({ seq: auditLog.seq, hash: auditLog.hash })
      .from(auditLog)
      .where(eq(auditLog.workspaceId, ws.id))
      .orderBy(desc(auditLog.seq))
      .limit(1);
    const headSeq = head?.seq ?? 0;
    const lastSeq = last?.seq ?? 0;
    if (headSeq !== lastSeq || (head && last && head.hash !== last.hash)) {
      reports.push({ ...base, entries: check.entries, ok: false, brokenAtSeq: lastSeq + 1, reason: `newest entries missing (head is at ${headSeq})` });
      continue;
    }
    if (key && head && !signatureHolds(key, { workspaceId: ws.id, seq: head.seq, hash: head.hash, signature: head.signature })) {
      const reason = head.signature ? 'head signature does not match (rebuilt without the signing key?)' : 'head is not signed';
      reports.push({ ...base, entries: check.entries, ok: false, brokenAtSeq: headSeq, reason });
      continue;
    }
    reports.push({ ...base, entries: check.entries, ok: true });
  }
  return reports;
}

/** One line per workspace; the first broken link of each broken chain. */
export function formatChainReports(reports: WorkspaceChainReport[]): string {
  if (reports.length === 0) return 'No workspaces: nothing to verify.';
  return reports
    .map((r) =>
      r.ok
        ? `ok      ${r.platform}:${r.externalId}  ${r.entries} entries`
        : `BROKEN  ${r.platform}:${r.externalId}  first broken link at seq ${r.brokenAtSeq}: ${r.reason}`,
    )
    .join('\n');
}
