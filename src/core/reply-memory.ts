/**
 * Which message a re-run of a delivery must replace: the status message shown while the turn
 * works, or, once the answer streams, the streamed message (the status message then goes).
 * Writes are kept in order, and a late status write never overrides the streamed message.
 */
import type { DeliveryAttempt, ReplyTarget } from './ports.js';

export interface ReplyMemory {
  /** Stores `messageId` for a re-run and points `target` at it; rejects when the store failed. */
  remember(messageId: string, kind: 'status' | 'stream'): Promise<void>;
}

export function replyMemory(target: ReplyTarget, attempt: DeliveryAttempt | undefined): ReplyMemory {
  let writes: Promise<void> = Promise.resolve();
  let streamed = false;
  return {
    remember(messageId, kind) {
      const write = writes.then(async () => {
        if (kind === 'status' && streamed) return;
        if (kind === 'stream') streamed = true;
        if (target.statusMessageId === messageId) return;
        target.statusMessageId = messageId;
        await attempt?.rememberStatus(messageId);
      });
      writes = write.catch(() => undefined);
      return write;
    },
  };
}
