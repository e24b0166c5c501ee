/**
 * What ReplySinks share to show a delivery's messages once whatever attempt shows them: the
 * status message updated in order, and a long reply's further parts stored before their text
 * shows. The delivery's memory (DeliveryMemory) comes from the core with each call.
 */
import type { DeliveryMemory, ReplyTarget } from './ports.js';

/** A memory that stores nothing: replies outside the inbox (a dead letter's notice, a test), shown over `statusMessageId` if given. */
export function deliveryMemoryOf(statusMessageId: string | null = null): DeliveryMemory {
  return { statusMessageId, partMessageIds: [] };
}

/** A bounded map the adapter keeps (their caches fit). */
export interface KeyedCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
}

/**
 * The status message each delivery shows while its turn works, by idempotency key. Updates run one
 * after another (the first one's post must be known before the next updates it), and a failed one
 * leaves the last good id for the answer.
 */
export function statusMessages(cache: KeyedCache<Promise<string | null>>) {
  return {
    /**
     * Runs `step` with the status message shown so far (null: none; at first, an earlier attempt's);
     * `step` answers the one that shows the status now. Answers its id when it is a new message.
     */
    async update(
      target: ReplyTarget,
      memory: DeliveryMemory,
      step: (shown: string | null) => Promise<string | null>,
    ): Promise<{ statusMessageId: string } | undefined> {
      const previous = cache.get(target.idempotencyKey) ?? Promise.resolve(memory.statusMessageId);
      let posted: string | null = null;
      const next = previous.then(async (shown) => {
        const now = await step(shown);
        if (now && now !== shown) posted = now;
        return now;
      });
      cache.set(target.idempotencyKey, next.catch(() => previous));
      await next;
      return posted ? { statusMessageId: posted } : undefined;
    },
    /** The status message this process shows for the delivery, once the updates under way are done; null when none. */
    async current(target: ReplyTarget): Promise<string | null> {
      return (await cache.get(target.idempotencyKey)?.catch(() => null)) ?? null;
    },
    forget(target: ReplyTarget): void {
      cache.delete(target.idempotencyKey);
    },
  };
}

/** How one platform shows the parts of a reply after its first (see showFurtherParts). */
export interface PartMessages {
  post(text: string): Promise<string>;
  /** Replaces a message's text; false when the message is gone (deleted). */
  update(messageId: string, text: string): Promise<boolean>;
  /** Deletes a message (best effort, never throws). */
  remove(messageId: string): Promise<void>;
  /** What a new part shows until its id is stored: a crash in between leaves this behind, never the text twice. */
  placeholder: string;
}

/**
 * Shows `parts` (a reply's parts after the first) in order, once whatever attempt shows them: a
 * part an earlier attempt posted is updated in place; a missing one is posted as a placeholder,
 * its id stored with the others' (`memory.rememberParts`), and only then given its text. A crash
 * at any point leaves no part shown twice; at most one stray placeholder. Without a memory (outside
 * the inbox) parts are simply posted. Answers the parts' message ids.
 */
export async function showFurtherParts(parts: string[], memory: DeliveryMemory, messages: PartMessages): Promise<string[]> {
  const known = memory.partMessageIds;
  const remember = memory.rememberParts;
  const ids: string[] = [];
  for (const [index, text] of parts.entries()) {
    const earlier = known[index];
    if (earlier && (await messages.update(earlier, text))) {
      ids.push(earlier);
      continue;
    }
    if (!remember) {
      ids.push(await messages.post(text));
      continue;
    }
    ids.push(await messages.post(messages.placeholder));
    await remember([...ids, ...known.slice(index + 1)]);
    await messages.update(ids[index]!, text);
  }
  // A re-run whose reply has fewer parts: what the earlier one showed beyond them goes.
  for (const extra of known.slice(parts.length)) await messages.remove(extra);
  return ids;
}
