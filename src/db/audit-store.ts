/**
 * The audit log: append-only and hash-chained per workspace. Each entry's hash covers its
 * fields and the previous entry's hash, so editing or deleting a row breaks the chain.
 */
import { createHash } from 'node:crypto';
import { and, desc, eq, gte, sql, type SQL } from 'drizzle-orm';
import type { Scope } from '../core/identity.js';
import type { AuditEntry, AuditEntryInput, AuditLog } from '../core/ports.js';
import { z } from 'zod';
import { contentKeptInClear } from '../core/audit.js';
import type { Db } from './client.js';
import { col, decodeRows, scoped, scopedBatch } from './raw.js';
import { auditLog } from './schema.js';
import { signerOf, type HeadSigner } from './audit-signing.js';
import { groupCommit } from './group-commit.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const GENESIS_HASH = '0'.repeat(64);

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

type HashedFields = Omit<AuditEntry, 'hash' | 'prevHash'> & { workspaceId: string };

/**
 * Canonical form: fixed key order, dates as ISO strings. Kept content is covered through its
 * SHA-256 (contentHash), not directly, so that an erasure can redact it without breaking the chain.
 */
export function entryHash(prevHash: string, e: HashedFields): string {
  const canonical = JSON.stringify([
    e.workspaceId,
    e.seq,
    e.at.toISOString(),
    e.action,
    e.outcome,
    e.actorPrincipalId,
    e.channelExternalId,
    e.model,
    e.inputTokens,
    e.outputTokens,
    e.latencyMs,
    e.contentHash,
    sortKeys(e.detail),
  ]);
  return sha256(`${prevHash}\n${canonical}`);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

/** Appends inside the caller's transaction; the head row's lock orders concurrent appends. */
export function appendAudit(tx: Tx, scope: Scope, input: AuditEntryInput, signer: HeadSigner | null): Promise<void> {
  return appendAuditBatch(tx, [{ scope, input }], signer);
}

/**
 * Appends several entries, of one workspace or many, in two round trips whatever their number
 * (turns are recorded in groups, see turn-store.ts). Written as plain SQL: every turn appends,
 * and drizzle's builder costs more CPU than the statements themselves.
 */
export async function appendAuditBatch(tx: Tx, items: { scope: Scope; input: AuditEntryInput }[], signer: HeadSigner | null): Promise<void> {
  if (items.length === 0) return;
  const scopes = new Map(items.map(({ scope }) => [scope.workspaceId, scope]));
  const counts = countByWorkspace(items);
  const wanted = scopedBatch('v', { n: 'int' }, [...scopes.values()].map((scope) => ({ scope, values: { n: counts.get(scope.workspaceId) ?? 0 } })));
  const heads = decodeRows(reservedHeadRow, await tx.execute(reserveAuditHeads(wanted.from)));
  await writeAuditEntries(tx, heads, items, signer);
}

function countByWorkspace(items: { scope: Scope }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { scope } of items) counts.set(scope.workspaceId, (counts.get(scope.workspaceId) ?? 0) + 1);
  return counts;
}

/** A workspace's head after seqs were reserved in it, with what the entries need to know. */
export const reservedHeadRow = z.object({ ws: z.string(), seq: col.number, prevHash: z.string(), signature: z.string().nullable(), storeContent: z.boolean() });
type ReservedHead = z.infer<typeof reservedHeadRow>;

/**
 * Reserves `n` seqs in each workspace's chain; `from` yields rows (ws uuid, n int). Heads are
 * locked in workspace order, so two groups of appends cannot deadlock on each other. A statement
 * of its own, or a step of a larger one (turn-store.ts).
 */
export function reserveAuditHeads(from: SQL): SQL {
  return sql`insert into audit_heads (workspace_id, seq, hash)
    select v.ws, v.n, ${GENESIS_HASH} from ${from} order by v.ws
    on conflict (workspace_id) do update set seq = audit_heads.seq + excluded.seq
    returning workspace_id as ws, seq, hash as "prevHash", signature,
      coalesce((select store_content from workspace_settings s where s.workspace_id = audit_heads.workspace_id), false) as "storeContent"`;
}

/**
 * Writes the entries into the seqs reserved for them, one seq per entry of its workspace (in
 * the order given), and moves the heads.
 */
export async function writeAuditEntries(
  tx: Tx,
  heads: ReservedHead[],
  items: { scope: Scope; input: AuditEntryInput }[],
  signer: HeadSigner | null,
): Promise<void> {
  if (items.length === 0) return;
  const counts = countByWorkspace(items);
  const chains = new Map(
    heads.map((h) => {
      const seq = h.seq - (counts.get(h.ws) ?? 0) + 1;
      // A head whose signature does not hold (rebuilt without the key) is never signed over: the break stays visible.
      const signable = seq === 1 || (h.signature !== null && signer?.holds(h.ws, seq - 1, h.prevHash, h.signature) === true);
      return [h.ws, { seq, prev: h.prevHash, storeContent: h.storeContent, signable }];
    }),
  );
  // Millisecond precision: what PostgreSQL stores (microseconds) must hash the same when read back.
  const at = new Date(Math.floor(Date.now()));
  const entries = items.map(({ scope, input }) => {
    const chain = chains.get(scope.workspaceId);
    if (!chain) throw new Error('audit head upsert returned no row');
    const fields: HashedFields = {
      workspaceId: scope.workspaceId,
      seq: chain.seq++,
      at,
      action: input.action,
      outcome: input.outcome,
      actorPrincipalId: input.actorPrincipalId ?? null,
      channelExternalId: input.channelExternalId ?? null,
      model: input.model ?? null,
      inputTokens: input.inputTokens ?? null,
      outputTokens: input.outputTokens ?? null,
      latencyMs: input.latencyMs === undefined || input.latencyMs === null ? null : Math.round(input.latencyMs),
      contentHash: input.content == null ? null : sha256(input.content),
      content: contentKeptInClear(input, chain.storeContent),
      detail: input.detail ?? {},
    };
    const hash = entryHash(chain.prev, fields);
    const entry = { ...fields, at: at.toISOString(), prevHash: chain.prev, hash };
    chain.prev = hash;
    return entry;
  });
  const scopes = new Map(items.map(({ scope }) => [scope.workspaceId, scope]));
  const rows = scopedBatch(
    'e',
    {
      seq: 'bigint', at: 'timestamptz', action: 'text', outcome: 'text', actorPrincipalId: 'uuid', channelExternalId: 'text', model: 'text',
      inputTokens: 'int', outputTokens: 'int', latencyMs: 'int', contentHash: 'text', content: 'text', detail: 'jsonb', prevHash: 'text', hash: 'text',
    },
    entries.map(({ workspaceId, ...values }) => ({ scope: scopes.get(workspaceId)!, values })),
  );
  // seq is one past the head's last entry once every entry took its seq.
  const newHeads = scopedBatch(
    'h',
    { hash: 'text', signature: 'text' },
    [...chains].map(([ws, chain]) => ({ scope: scopes.get(ws)!, values: { hash: chain.prev, signature: chain.signable ? (signer?.sign(ws, chain.seq - 1, chain.prev) ?? null) : null } })),
  );
  // The entries and the new heads in one statement.
  await tx.execute(
    scoped(rows, (ws) =>
      scoped(
        newHeads,
        (headWs) => sql`with entry as (
          insert into audit_log (workspace_id, seq, at, action, outcome, actor_principal_id, channel_external_id, model,
            input_tokens, output_tokens, latency_ms, content_hash, content, detail, prev_hash, hash)
          select ${ws}, seq, at, action, outcome, "actorPrincipalId", "channelExternalId", model,
            "inputTokens", "outputTokens", "latencyMs", "contentHash", content, detail, "prevHash", hash
          from ${rows.from})
        update audit_heads set hash = h.hash, signature = h.signature from ${newHeads.from} where audit_heads.workspace_id = ${headWs}`,
      ),
    ),
  );
}

const entryColumns = {
  seq: auditLog.seq,
  at: auditLog.at,
  action: auditLog.action,
  outcome: auditLog.outcome,
  actorPrincipalId: auditLog.actorPrincipalId,
  channelExternalId: auditLog.channelExternalId,
  model: auditLog.model,
  inputTokens: auditLog.inputTokens,
  outputTokens: auditLog.outputTokens,
  latencyMs: auditLog.latencyMs,
  contentHash: auditLog.contentHash,
  content: auditLog.content,
  detail: auditLog.detail,
  prevHash: auditLog.prevHash,
  hash: auditLog.hash,
};

export function createAuditLog(db: Db): AuditLog {
  // Appends that arrive together (a turn's parallel tool calls, concurrent turns) share one
  // transaction: one head lock and one commit. Each caller still learns whether its entry was written.
  const append = groupCommit(
    (batch: { scope: Scope; input: AuditEntryInput }[]) =>
      db.transaction(async (tx) => {
        await appendAuditBatch(tx, batch, signerOf(db));
        return batch.map(() => undefined);
      }),
    { retryAlone: true },
  );
  return {
    append: (scope, input) => append({ scope, input }),
    async list(scope, filter) {
      const rows = await db
        .select(entryColumns)
        .from(auditLog)
        .where(
          and(
            eq(auditLog.workspaceId, scope.workspaceId),
            filter.actorPrincipalId ? eq(auditLog.actorPrincipalId, filter.actorPrincipalId) : undefined,
            filter.since ? gte(auditLog.at, filter.since) : undefined,
          ),
        )
        .orderBy(desc(auditLog.seq))
        .limit(filter.limit);
      return rows as AuditEntry[];
    },
  };
}

export type ChainCheck = { ok: true; entries: number } | { ok: false; entries: number; brokenAtSeq: number; reason: string };

/** Walks one workspace's chain in order and reports the first link that does not hold. */
export async function verifyAuditChain(db: Db, scope: Scope): Promise<ChainCheck> {
  const rows = await db
    .select(entryColumns)
    .from(auditLog)
    .where(eq(auditLog.workspaceId, scope.workspaceId))
    .orderBy(auditLog.seq);
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const row of rows as AuditEntry[]) {
    if (row.seq !== expectedSeq) return { ok: false, entries: rows.length, brokenAtSeq: expectedSeq, reason: 'entry missing' };
    if (row.prevHash !== prev) return { ok: false, entries: rows.length, brokenAtSeq: row.seq, reason: 'previous hash does not match' };
    if (entryHash(prev, { ...row, workspaceId: scope.workspaceId }) !== row.hash)
      return { ok: false, entries: rows.length, brokenAtSeq: row.seq, reason: 'entry was changed' };
    if (row.content !== null && (row.contentHash === null || sha256(row.content) !== row.contentHash))
      return { ok: false, entries: rows.length, brokenAtSeq: row.seq, reason: 'content was changed' };
    prev = row.hash;
    expectedSeq++;
  }
  return { ok: true, entries: rows.length };
}
