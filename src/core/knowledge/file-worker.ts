/**
 * The file worker: reads shared files into the index in the background (a PDF or a DOCX can take
 * seconds; the event that shared it was acked long before). It claims one due file job at a time
 * from the database (any instance may; a lease keeps it to one, and a job whose instance died is
 * taken again), reads the file as the bot where it was shared (FileText: the platform says whether
 * the bot may see it there before anything is downloaded, within FILE_MAX_BYTES), and stores its
 * chunks with the place's audience, marking the job in the same transaction. A file that cannot be
 * read (not visible, too large, of a kind Quorum does not read) is skipped with its reason; a
 * failure is retried a bounded number of times, then skipped too. Each read is logged and audited, never its name or text.
 */
import { startClaimLoop } from './claim-loop.js';
import type { AuditLog, FileIndexQueue, FileJobClaim, FileReadOutcome, FileText, Logger } from '../ports.js';
import { fileChunks } from './chunks.js';

export interface FileWorkerDeps {
  store: FileIndexQueue;
  fileText: FileText;
  /** Each file read (or given up) is audited: where, which file, the outcome; never its name or text. */
  audit?: AuditLog;
  log: Logger;
  workerId: string;
  leaseMs: number;
  /** How long an idle worker waits before it looks for due jobs again. */
  idleMs?: number;
  /** A failed read is retried after this (doubling), and skipped after maxAttempts. */
  retryMs?: number;
  maxAttempts?: number;
}

export interface FileWorker {
  wake(): void;
  stop(): Promise<void>;
}

const MAX_ATTEMPTS = 5;
/** Jobs one pass takes at most before it sleeps. */
const PER_PASS = 50;

async function readSafely(deps: FileWorkerDeps, claim: FileJobClaim): Promise<FileReadOutcome> {
  try {
    return await deps.fileText.read({ workspace: claim.workspace, channel: claim.place.channel }, claim.file);
  } catch (err) {
    return { kind: 'failed', reason: (err as Error).message.slice(0, 200) };
  }
}

/** The audit entry of one read: the file's id, the outcome and why; the bot read it, nobody asked. */
async function audited(deps: FileWorkerDeps, claim: FileJobClaim, detail: { outcome: string; reason?: string | null; bytes?: number; chunks?: number }): Promise<void> {
  await deps.audit
    ?.append(claim.scope, {
      action: 'file_read',
      outcome: detail.outcome === 'failed' ? 'error' : 'ok',
      channelExternalId: claim.place.channel.id,
      channelKind: claim.place.channel.kind,
      detail: { kind: 'knowledge_file', file: claim.file.id, ...detail },
    })
    .catch((err: unknown) => deps.log.warn({ event: 'knowledge.file_audit_failed', err: (err as Error).message.slice(0, 200) }, 'file read not audited'));
}

async function work(deps: FileWorkerDeps, stopped: () => boolean, claim: FileJobClaim): Promise<void> {
  const read = await readSafely(deps, claim);
  // Stopping: the job is handed back (stop()), and what was read is dropped.
  if (stopped()) return;
  const where = { event: 'knowledge.file_read', workspace: claim.scope.workspaceId, channel: claim.place.channel.id, file: claim.file.id };
  if (read.kind === 'failed') {
    const tries = claim.attempts + 1;
    const giveUp = tries >= (deps.maxAttempts ?? MAX_ATTEMPTS);
    const reason = giveUp ? `it could not be read after ${tries} tries (${read.reason})` : read.reason;
    deps.log.warn({ ...where, outcome: 'failed', attempt: tries, giveUp, err: read.reason.slice(0, 200) }, 'shared file not read');
    await deps.store.failFileJob(claim, deps.workerId, { reason, retryInMs: (deps.retryMs ?? 30_000) * 2 ** (tries - 1), giveUp });
    if (giveUp) await audited(deps, claim, { outcome: 'failed', reason });
    return;
  }
  const chunks = fileChunks(claim.file, read.kind === 'text' ? read.text : null, claim, claim.permalink);
  const stored = await deps.store.completeFileJob(claim, deps.workerId, {
    status: read.kind === 'text' ? 'indexed' : 'skipped',
    reason: read.kind === 'skipped' ? read.reason : null,
    chunks,
  });
  if (stored)
    await audited(deps, claim, {
      outcome: read.kind === 'text' ? 'indexed' : 'skipped',
      ...(read.kind === 'text' ? { bytes: read.bytes, chunks: chunks.length } : { reason: read.reason }),
    });
  deps.log.info(
    { ...where, outcome: read.kind === 'text' ? 'indexed' : 'skipped', bytes: read.kind === 'text' ? read.bytes : undefined, chunks: chunks.length, stored },
    stored ? 'shared file read into the index' : 'shared file read, but it was deleted or changed meanwhile',
  );
}

export function startFileWorker(deps: FileWorkerDeps): FileWorker {
  return startClaimLoop<FileJobClaim>({
    claim: () => deps.store.claimFileJob(deps.workerId, deps.leaseMs),
    async work(claim, stopped) {
      try {
        await work(deps, stopped, claim);
      } catch (err) {
        // The database failed under it: the lease runs out and the job is taken again.
        if (!stopped()) deps.log.warn({ event: 'knowledge.file_job_error', file: claim.file.id, err: (err as Error).message.slice(0, 200) }, 'file job not finished');
      }
    },
    // Handed back at once so another instance resumes it; a read still in flight is dropped.
    release: (claim) => deps.store.releaseFileJob(claim, deps.workerId),
    perPass: PER_PASS,
    idleMs: deps.idleMs ?? 5_000,
    log: deps.log,
    errorEvent: 'knowledge.file_worker_error',
  });
}
