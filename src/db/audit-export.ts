/**
 * The audit trail as a JSON Lines file (`/agent audit export 30d`) and its check outside Quorum
 * (`npm run audit:verify -- --file`). Line 1 names the workspace; then one line per entry with
 * its chain hashes; the last line is the chain's head as it was when the file was made, with its
 * signature. The entries of a window start mid-chain: the first one's prevHash is taken as given
 * (unless it is seq 1), every later link is checked, and the last entry must be the signed head.
 */
import { and, asc, eq, gte, lte } from 'drizzle-orm';
import { z } from 'zod';
import type { Scope } from '../core/identity.js';
import type { AuditEntry, AuditExporter } from '../core/ports.js';
import { entryHash, GENESIS_HASH, sha256 } from './audit-store.js';
import { signatureHolds } from './audit-signing.js';
import type { Db } from './client.js';
import { auditHeads, auditLog } from './schema.js';

const header = z.object({ type: z.literal('quorum-audit-export'), version: z.literal(1), workspaceId: z.string(), since: z.string(), exportedAt: z.string() });
const entryLine = z.object({
  type: z.literal('entry'),
  seq: z.number().int().positive(),
  at: z.string(),
  action: z.string(),
  outcome: z.string(),
  actorPrincipalId: z.string().nullable(),
  channelExternalId: z.string().nullable(),
  model: z.string().nullable(),
  inputTokens: z.number().nullable(),
  outputTokens: z.number().nullable(),
  latencyMs: z.number().nullable(),
  contentHash: z.string().nullable(),
  content: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
const headLine = z.object({ type: z.literal('head'), seq: z.number().int().nonnegative(), hash: z.string(), signature: z.string().nullable() });

export function createAuditExporter(db: Db): AuditExporter {
  return {
    async exportJsonl(scope: Scope, since: Date) {
      // The head first: entries appended while the file is made are past it and left out.
      const [head] = await db.select().from(auditHeads).where(eq(auditHeads.workspaceId, scope.workspaceId));
      const rows = head
        ? ((await db
            .select()
            .from(auditLog)
            .where(and(eq(auditLog.workspaceId, scope.workspaceId), gte(auditLog.at, since), lte(auditLog.seq, head.seq)))
            .orderBy(asc(auditLog.seq))) as (AuditEntry & { workspaceId: string })[])
        : [];
      // A window that ends before the head (nothing newer in it) still ends on the head's entry.
      const lines = [
        { type: 'quorum-audit-export', version: 1, workspaceId: scope.workspaceId, since: since.toISOString(), exportedAt: new Date().toISOString() },
        ...rows.map((r) => ({
          type: 'entry',
          seq: r.seq,
          at: r.at.toISOString(),
          action: r.action,
          outcome: r.outcome,
          actorPrincipalId: r.actorPrincipalId,
          channelExternalId: r.channelExternalId,
          model: r.model,
          inputTokens: r.inputTokens,
          outputTokens: r.outputTokens,
          latencyMs: r.latencyMs,
          contentHash: r.contentHash,
          content: r.content,
          detail: r.detail,
          prevHash: r.prevHash,
          hash: r.hash,
        })),
        { type: 'head', seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH, signature: head?.signature ?? null },
      ];
      return { content: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', entries: rows.length };
    },
  };
}

export type FileCheck =
  | { ok: true; entries: number; workspaceId: string; signature: 'valid' | 'not checked' }
  | { ok: false; entries: number; line: number; reason: string };

/** Checks an exported file on its own: the links, each entry's hash and content, and the signed head (given the key). */
export function verifyExportFile(text: string, key: Buffer | null): FileCheck {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const fail = (line: number, reason: string, entries = 0): FileCheck => ({ ok: false, entries, line, reason });
  const parsedHeader = header.safeParse(parseJson(lines[0]));
  if (!parsedHeader.success) return fail(1, 'not a Quorum audit export (first line)');
  const workspaceId = parsedHeader.data.workspaceId;
  const head = headLine.safeParse(parseJson(lines.at(-1)));
  if (lines.length < 2 || !head.success) return fail(lines.length, 'the head line is missing (the file was cut short?)');
  let prev: string | null = null;
  let seq = 0;
  const body = lines.slice(1, -1);
  for (const [i, raw] of body.entries()) {
    const at = i + 2;
    const parsed = entryLine.safeParse(parseJson(raw));
    if (!parsed.success) return fail(at, 'not an audit entry', i);
    const e = parsed.data;
    if (prev === null && e.seq === 1 && e.prevHash !== GENESIS_HASH) return fail(at, 'the first entry does not start the chain', i);
    if (prev !== null && e.seq !== seq + 1) return fail(at, `entry missing (expected seq ${seq + 1})`, i);
    if (prev !== null && e.prevHash !== prev) return fail(at, 'previous hash does not match', i);
    if (entryHash(e.prevHash, { ...e, workspaceId, at: new Date(e.at) } as Parameters<typeof entryHash>[1]) !== e.hash) return fail(at, 'entry was changed', i);
    if (e.content !== null && (e.contentHash === null || sha256(e.content) !== e.contentHash)) return fail(at, 'content was changed', i);
    prev = e.hash;
    seq = e.seq;
  }
  const h = head.data;
  if (body.length > 0 && (h.seq !== seq || h.hash !== prev)) return fail(lines.length, 'the last entry is not the head (entries missing at the end)', body.length);
  if (!key) return { ok: true, entries: body.length, workspaceId, signature: 'not checked' };
  if (!signatureHolds(key, { workspaceId, seq: h.seq, hash: h.hash, signature: h.signature }))
    return fail(lines.length, h.signature ? 'head signature does not match (rebuilt without the signing key?)' : 'head is not signed', body.length);
  return { ok: true, entries: body.length, workspaceId, signature: 'valid' };
}

function parseJson(line: string | undefined): unknown {
  try {
    return line === undefined ? undefined : JSON.parse(line);
  } catch {
    return undefined;
  }
}
