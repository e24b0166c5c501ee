/**
 * The last stage of a turn, and its one owner of what the user sees: progress in order, the
 * answer stream, the reply, and what a re-run after a crash must find (the delivery's memory,
 * handed to the platform's ReplySink with every call; stored through the inbox's DeliveryAttempt).
 */
import { openAnswerStream, type AnswerStream } from '../answer-stream.js';
import type { Envelope } from '../envelope.js';
import type { ReplyAction } from '../interactions.js';
import type { DeliveryAttempt, DeliveryMemory, Logger, OutgoingReply, ReplySink, ReplyTarget } from '../ports.js';
import type { TurnResult } from './deps.js';

export interface Delivery {
  readonly target: ReplyTarget;
  /** Shows a status while the turn works: in order, best effort; the first one's message is stored before anything else is posted. */
  progress(status: string): void;
  /** Posts a reply once the progress under way is shown. */
  post(reply: OutgoingReply): Promise<TurnResult>;
  /**
   * Opens the stream the answer shows in while it is written (null where the platform cannot).
   * The streamed message becomes the one a re-run replaces (the status message above it goes).
   */
  openAnswer(): AnswerStream | null;
  /** Ends the stream with the recorded text; where nothing streamed (or it broke) the answer is posted. */
  finish(text: string, actions?: ReplyAction[]): Promise<TurnResult>;
}

export function replyTargetOf(envelope: Envelope): ReplyTarget {
  const { workspace, user, channel, threadId, messageId, idempotencyKey, replyRoute } = envelope;
  return { workspace, user, channel, threadId, messageId, idempotencyKey, replyRoute };
}

/**
 * `attempt` comes from the inbox row: a re-run (after a crash) finds the status message and the
 * parts an earlier attempt recorded, and replaces them instead of posting them again.
 */
export function openDelivery(sink: ReplySink, envelope: Envelope, attempt: DeliveryAttempt | undefined, log: Logger): Delivery {
  const target = replyTargetOf(envelope);
  const memory = rememberedFor(attempt);
  let progressChain: Promise<void> = Promise.resolve();
  let answer: AnswerStream | null = null;
  const post = async (reply: OutgoingReply) => {
    await progressChain;
    return { platformMessageId: (await sink.post(target, reply, memory)).platformMessageId };
  };
  return {
    target,
    progress(status) {
      progressChain = progressChain.then(() =>
        bestEffort(log, async () => {
          const shown = await sink.progress?.(target, status, memory);
          if (shown) await memory.remember(shown.statusMessageId, 'status');
        }),
      );
    },
    post,
    openAnswer() {
      answer = openAnswerStream(sink, target, memory, log, (messageId) => memory.remember(messageId, 'stream'));
      return answer;
    },
    async finish(text, actions) {
      return (await answer?.finish(text, actions)) ?? post({ kind: 'answer', text, ...(actions?.length ? { actions } : {}) });
    },
  };
}

interface Remembered extends DeliveryMemory {
  /** Stores `messageId` for a re-run; rejects when the store failed. */
  remember(messageId: string, kind: 'status' | 'stream'): Promise<void>;
}

/**
 * Which messages a re-run of the delivery must replace: the status message shown while the turn
 * works, or, once the answer streams, the streamed message (the status message then goes); and
 * the messages of a long reply's further parts. Status writes are kept in order, and a late status
 * write never overrides the streamed message. Without an attempt (outside the inbox) nothing is stored.
 */
function rememberedFor(attempt: DeliveryAttempt | undefined): Remembered {
  let statusMessageId = attempt?.statusMessageId ?? null;
  let partMessageIds: readonly string[] = attempt?.partMessageIds ?? [];
  let writes: Promise<void> = Promise.resolve();
  let streamed = false;
  const rememberParts = attempt
    ? async (messageIds: string[]) => {
        await attempt.rememberParts(messageIds);
        partMessageIds = messageIds;
      }
    : undefined;
  return {
    get statusMessageId() {
      return statusMessageId;
    },
    get partMessageIds() {
      return partMessageIds;
    },
    ...(rememberParts ? { rememberParts } : {}),
    remember(messageId, kind) {
      const write = writes.then(async () => {
        if (kind === 'status' && streamed) return;
        if (kind === 'stream') streamed = true;
        if (statusMessageId === messageId) return;
        statusMessageId = messageId;
        await attempt?.rememberStatus(messageId);
      });
      writes = write.catch(() => undefined);
      return write;
    },
  };
}

async function bestEffort(log: Logger, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    log.debug({ event: 'reply.progress_failed', err: (err as Error).message }, 'progress update failed');
  }
}
