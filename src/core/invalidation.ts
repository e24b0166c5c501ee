/**
 * Revocation on every instance: an adapter that learns that access changed (a member left, a
 * channel was archived, a user was deactivated, the app was uninstalled) publishes it here, and
 * every instance's caches forget or apply it. The transport (PostgreSQL LISTEN/NOTIFY, Redis
 * pub/sub, or nothing with one process) lives outside the core; adapters see only this port.
 */
import { z } from 'zod';
import { workspaceRefSchema } from './envelope.js';
import type { BusTransport, InvalidationBus, Logger } from './ports.js';

const id = z.string().min(1).max(256);
/** More ids than this in one message become a `channel` message (forget the roster): a NOTIFY payload is under 8 kB. */
export const MAX_IDS_PER_MESSAGE = 50;

export const invalidationSchema = z.discriminatedUnion('kind', [
  /** Members joined or left a channel (its roster key: a Slack channel, a Teams team or chat). */
  z.object({
    kind: z.literal('members'),
    workspace: workspaceRefSchema,
    channelId: id,
    added: z.array(id).max(MAX_IDS_PER_MESSAGE),
    removed: z.array(id).max(MAX_IDS_PER_MESSAGE),
  }),
  /** A channel archived (closed until `open`), deleted, or the bot removed from it: its cached roster goes. */
  z.object({ kind: z.literal('channel'), workspace: workspaceRefSchema, channelId: id, state: z.enum(['archived', 'open', 'unknown']) }),
  /** A user's profile or role changed, or the user was deactivated: what is cached about them goes. */
  z.object({ kind: z.literal('user'), workspace: workspaceRefSchema, userId: id }),
  /** The app was removed from the workspace: everything cached for it goes. */
  z.object({ kind: z.literal('workspace'), workspace: workspaceRefSchema }),
  /** An admin changed a workspace's connected-tool rules (its Quorum id, not the platform's): cached rules go. */
  z.object({ kind: z.literal('tool_rules'), workspaceId: id }),
  /** Sent locally when messages may have been missed (the transport reconnected): forget everything. */
  z.object({ kind: z.literal('all') }),
]);
export type Invalidation = z.infer<typeof invalidationSchema>;

/** This process only: enough with one instance (embedded PGlite) and in tests of one adapter. */
export function localInvalidationBus(log?: Logger): InvalidationBus {
  return build(null, log).bus;
}

/** Over a transport: messages carry the sender's id so that nobody applies its own twice. */
export async function createInvalidationBus(transport: BusTransport | null, log?: Logger): Promise<InvalidationBus> {
  const { bus, receive, deliver } = build(transport, log);
  await transport?.start(receive, () => deliver({ kind: 'all' }));
  return bus;
}

const wireSchema = z.object({ origin: z.string(), message: invalidationSchema });

function build(transport: BusTransport | null, log: Logger | undefined) {
  // Web Crypto's global: the core imports no Node module.
  const origin = globalThis.crypto.randomUUID();
  const handlers = new Set<(message: Invalidation) => void>();
  const deliver = (message: Invalidation) => {
    for (const handler of handlers) {
      try {
        handler(message);
      } catch (err) {
        log?.warn({ event: 'invalidation.handler_failed', err: (err as Error).message?.slice(0, 200) }, 'cache invalidation failed');
      }
    }
  };
  const receive = (payload: string) => {
    let parsed: z.infer<typeof wireSchema> | null = null;
    try {
      const result = wireSchema.safeParse(JSON.parse(payload));
      parsed = result.success ? result.data : null;
    } catch {
      parsed = null;
    }
    if (!parsed) {
      log?.warn({ event: 'invalidation.unreadable' }, 'invalidation message ignored: not in the expected shape');
      return;
    }
    if (parsed.origin !== origin) deliver(parsed.message);
  };
  const bus: InvalidationBus = {
    async publish(message) {
      const checked = invalidationSchema.parse(shrink(message));
      deliver(checked);
      if (!transport) return;
      try {
        await transport.send(JSON.stringify({ origin, message: checked }));
      } catch (err) {
        log?.warn({ event: 'invalidation.send_failed', err: (err as Error).message?.slice(0, 200) }, 'other instances not told; their TTL applies');
      }
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    close: async () => {
      handlers.clear();
      await transport?.close();
    },
  };
  return { bus, receive, deliver };
}

/** A change of many members travels as "forget this roster", which is always safe. */
function shrink(message: Invalidation): Invalidation {
  if (message.kind !== 'members') return message;
  const fits = (ids: string[]) => ids.length <= MAX_IDS_PER_MESSAGE && ids.every((i) => i.length > 0 && i.length <= 256);
  if (fits(message.added) && fits(message.removed)) return message;
  return { kind: 'channel', workspace: message.workspace, channelId: message.channelId, state: 'unknown' };
}

