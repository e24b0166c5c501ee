/**
 * Audit writes a turn started and has not waited for yet. A read-only connected call hands its
 * result to the model while its audit entry commits (the hash-chained append is a transaction,
 * most of what governance added to a call); the turn waits for every such write before anything
 * built on those results reaches the user, and fails, as on any database error, if one did not
 * commit: no answer goes out without the audit of the calls it used. Actions and denials are
 * never deferred: they are audited before their result is used.
 */
export class PendingAudits {
  private writes: Promise<void>[] = [];

  /** Starts waiting for `write` (its failure is reported by `flush`, never as an unhandled rejection). */
  add(write: Promise<void>): void {
    write.catch(() => undefined);
    this.writes.push(write);
  }

  /** Resolves once every write added so far committed; rejects with the first failure, once all have settled. */
  async flush(): Promise<void> {
    let failure: { reason: unknown } | null = null;
    // Writes added while waiting (another step still running) are waited for too; each pass takes what is there.
    for (let pass = 0; this.writes.length > 0 && pass < 1_000; pass++) {
      const batch = this.writes;
      this.writes = [];
      for (const s of await Promise.allSettled(batch)) if (s.status === 'rejected') failure ??= { reason: s.reason };
    }
    if (failure) throw failure.reason;
    if (this.writes.length > 0) throw new Error('audit writes kept arriving while the turn waited for them');
  }
}

/**
 * Runs a turn's agent work with a pending-audit collector and resolves only once every deferred
 * audit write committed (rejecting, like a database error, when one did not).
 */
export async function withPendingAudits<T>(audits: PendingAudits, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (err) {
    // A turn that failed anyway leaves no write behind it; the first error is the one reported.
    await audits.flush().catch(() => undefined);
    throw err;
  }
  await audits.flush();
  return result;
}
