/**
 * UserDirectory for Teams: one member lookup in a conversation the user wrote in. Teams roles
 * give guest (userRole guest, or a home tenant other than the workspace's: external) or member;
 * admins come from QUORUM_ADMINS and grants, never from Teams.
 */
import { LRUCache } from 'lru-cache';
import { TeamsInfo } from 'botbuilder';
import type { UserRef, WorkspaceRef } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { UserFacts } from '../../src/core/identity.js';
import type { Invalidation } from '../../src/core/invalidation.js';
import type { UserDirectory } from '../../src/core/ports.js';
import { keys, type TeamsRuntime } from './runtime.js';

export function factsOf(member: { userRole?: string; tenantId?: string; name?: string }, workspace: WorkspaceRef): UserFacts {
  const foreign = member.tenantId !== undefined && member.tenantId !== workspace.externalId;
  const platformRole = foreign ? 'external' : member.userRole === 'guest' ? 'guest' : 'member';
  return { platformRole, deleted: false, ...(member.name ? { displayName: member.name } : {}) };
}

export interface TeamsDirectory extends UserDirectory {
  /** Forgets what is cached about users who left (or a whole workspace), told by the invalidation bus. */
  invalidate(message: Invalidation): void;
}

export function createDirectory(runtime: TeamsRuntime, options: { ttlMs?: number } = {}): TeamsDirectory {
  const cache = new LRUCache<string, UserFacts>({ max: 10_000, ttl: options.ttlMs ?? 10 * 60_000 });
  return {
    async lookup(workspace: WorkspaceRef, user: UserRef): Promise<UserFacts> {
      const key = `${workspace.externalId}|${user.id}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const where = await runtime.refs.load(workspace, keys.user(user.id));
      const conversationKey = typeof where?.conversationKey === 'string' ? where.conversationKey : null;
      const stored = conversationKey ? await runtime.loadConversation(workspace, conversationKey) : null;
      if (!stored || !conversationKey) throw new QuorumError('DIRECTORY_UNAVAILABLE', 'no Teams conversation known for this user');
      let facts: UserFacts;
      try {
        const conversation = { ...(stored.reference.conversation as object), id: stored.teamId ?? conversationKey };
        const member = await runtime.inConversation({ ...stored.reference, conversation }, (context) =>
          TeamsInfo.getMember(context, user.id),
        );
        facts = factsOf(member as { userRole?: string; tenantId?: string; name?: string }, workspace);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) {
          // Not in the conversation any more (left the team, account removed): nothing is answered.
          facts = { platformRole: 'guest', deleted: true };
        } else {
          throw new QuorumError('DIRECTORY_UNAVAILABLE', 'Teams member lookup failed', { cause: err });
        }
      }
      cache.set(key, facts);
      return facts;
    },
    invalidate(message) {
      if (message.kind === 'all') cache.clear();
      const ws = 'workspace' in message ? message.workspace.externalId : '';
      if (message.kind === 'workspace') for (const key of [...cache.keys()]) if (key.startsWith(`${ws}|`)) cache.delete(key);
      if (message.kind === 'user') cache.delete(`${ws}|${message.userId}`);
      // Someone removed from a team or chat may have left the organisation: asked again.
      if (message.kind === 'members') for (const id of message.removed) cache.delete(`${ws}|${id}`);
    },
  };
}
