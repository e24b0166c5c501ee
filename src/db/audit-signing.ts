/**
 * Signatures of audit chain heads. Each new head is signed (HMAC-SHA256) with a key that is never
 * stored in the database (AUDIT_SIGNING_KEY, or derived from QUORUM_ENCRYPTION_KEY), so someone
 * who can write to the database can recompute every hash but cannot sign the head they end on.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq, isNull } from 'drizzle-orm';
import type { Db } from './client.js';
import { auditHeads } from './schema.js';

export interface HeadSigner {
  sign(workspaceId: string, seq: number, hash: string): string;
  holds(workspaceId: string, seq: number, hash: string, signature: string): boolean;
}

/** The fixed label of the derivation: a key for this purpose only, never the encryption key itself. */
const HKDF_INFO = 'quorum audit head signing v1';

/** AUDIT_SIGNING_KEY as given, else HKDF-SHA256 of the 32-byte encryption key. */
export function auditSigningKey(options: { signingKey?: string | undefined; encryptionKey: Buffer }): Buffer {
  if (options.signingKey) return Buffer.from(options.signingKey, 'utf8');
  return Buffer.from(hkdfSync('sha256', options.encryptionKey, Buffer.alloc(0), HKDF_INFO, 32));
}

/**
 * The signing key of this installation, or null when there is none yet: AUDIT_SIGNING_KEY, else
 * derived from QUORUM_ENCRYPTION_KEY, else from the development key in DATA_DIR if one was made
 * (never made here: a console-only start stores no tokens and needs none).
 */
export function auditSigningKeyOf(config: { AUDIT_SIGNING_KEY?: string | undefined; QUORUM_ENCRYPTION_KEY?: string | undefined; DATA_DIR: string }): Buffer | null {
  if (config.AUDIT_SIGNING_KEY) return auditSigningKey({ signingKey: config.AUDIT_SIGNING_KEY, encryptionKey: Buffer.alloc(0) });
  const devKey = join(config.DATA_DIR, 'encryption.key');
  const encoded = config.QUORUM_ENCRYPTION_KEY ?? (existsSync(devKey) ? readFileSync(devKey, 'utf8').trim() : null);
  return encoded ? auditSigningKey({ encryptionKey: Buffer.from(encoded, 'base64') }) : null;
}

export function headSignature(key: Buffer, workspaceId: string, seq: number, hash: string): string {
  return createHmac('sha256', key).update(`quorum-audit-head\n${workspaceId}\n${seq}\n${hash}`).digest('hex');
}

export function signatureHolds(key: Buffer, head: { workspaceId: string; seq: number; hash: string; signature: string | null }): boolean {
  if (!head.signature || !/^[0-9a-f]{64}$/.test(head.signature)) return false;
  const expected = Buffer.from(headSignature(key, head.workspaceId, head.seq, head.hash), 'hex');
  return timingSafeEqual(expected, Buffer.from(head.signature, 'hex'));
}

export function headSigner(key: Buffer): HeadSigner {
  return {
    sign: (workspaceId, seq, hash) => headSignature(key, workspaceId, seq, hash),
    holds: (workspaceId, seq, hash, signature) => signatureHolds(key, { workspaceId, seq, hash, signature }),
  };
}

// Per database handle: every store of one running Quorum signs with its key, set once at start-up.
const signers = new WeakMap<Db, HeadSigner>();

/** Every audit append through `db` from now on signs the heads it writes. */
export function signAuditHeads(db: Db, key: Buffer): void {
  signers.set(db, headSigner(key));
}

/**
 * The first start with a key signs the heads written before signing existed (trust on first use),
 * and only then: once any head is signed, an unsigned head is a break that stays visible.
 * Returns how many heads it signed.
 */
export async function adoptUnsignedHeads(db: Db, key: Buffer): Promise<number> {
  const heads = await db.select().from(auditHeads);
  if (heads.length === 0 || heads.some((h) => h.signature !== null)) return 0;
  for (const h of heads)
    await db
      .update(auditHeads)
      .set({ signature: headSignature(key, h.workspaceId, h.seq, h.hash) })
      .where(and(eq(auditHeads.workspaceId, h.workspaceId), eq(auditHeads.seq, h.seq), eq(auditHeads.hash, h.hash), isNull(auditHeads.signature)));
  return heads.length;
}

/** The signer for appends through `db`; null: heads are written unsigned (tests, tools without the key). */
export function signerOf(db: Db): HeadSigner | null {
  return signers.get(db) ?? null;
}
