/**
 * MembershipSource for Teams: a standard channel's members are its team's roster, a group
 * chat's are the chat's; both read with paged member calls, cached and bounded, and changed at
 * once by conversationUpdate events. Private and shared channels are closed (see README).
 */
import { LRUCache } from 'lru-cache';
import { TeamsInfo } from 'botbuilder';
import type { ChannelRef, WorkspaceRef } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { Invalidation } from '../../src/core/invalidation.js';
import type { MembershipSource } from '../../src/core/ports.js';
import { keys, type TeamsRuntime } from './runtime.js';

const PAGE_SIZE = 500;
/** A roster longer than this many pages is not read to the end (Teams teams hold at most 25,000 members). */
const MAX_PAGES = 60;

export interface TeamsMembership extends MembershipSource {
  /**
   * Applies a change told by the invalidation bus: conversationUpdate's added and removed members
   * (`channelId` is the roster key: a team or a chat), a roster dropped, a workspace gone.
   */
  invalidate(message: Invalidation): void;
}

export function createMembership(runtime: TeamsRuntime, options: { ttlMs?: number; maxRosters?: number } = {}): TeamsMembership {
  const rosters = new LRUCache<string, Set<string>>({ max: options.maxRosters ?? 1_000, ttl: options.ttlMs ?? 10 * 60_000 });
  const cacheKey = (workspace: WorkspaceRef, rosterKey: string) => `${workspace.externalId}|${rosterKey}`;

  async function fetchRoster(reference: Record<string, unknown>, rosterKey: string): Promise<Set<string>> {
    const conversation = { ...(reference.conversation as object), id: rosterKey };
    return runtime.inConversation({ ...reference, conversation }, async (context) => {
      const members = new Set<string>();
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await TeamsInfo.getPagedMembers(context, PAGE_SIZE, token);
        for (const m of result.members ?? []) if (m.aadObjectId) members.add(m.aadObjectId);
        token = result.continuationToken || undefined;
        if (!token) return members;
      }
      runtime.log.warn({ event: 'teams.roster_truncated', pages: MAX_PAGES }, 'roster longer than the page limit');
      return members;
    });
  }

  return {
    async isMember(workspace: WorkspaceRef, channel: ChannelRef, userId: string) {
      let rosterKey = channel.id;
      let closed = false;
      if (channel.kind === 'channel') {
        const mapping = await runtime.refs.load(workspace, keys.channel(channel.id));
        if (!mapping || typeof mapping.teamId !== 'string') throw new QuorumError('MEMBERSHIP_UNAVAILABLE', 'unknown Teams channel');
        rosterKey = mapping.teamId;
        closed = mapping.closed === true;
      }
      if (closed) {
        // Without Graph, a private/shared channel's members are unknown: only the requester's own
        // context is used there (threads are per requester), so the requester counts as a member.
        return true;
      }
      const key = cacheKey(workspace, rosterKey);
      let roster = rosters.get(key);
      if (!roster) {
        const stored = await runtime.loadConversation(workspace, rosterKey);
        if (!stored) throw new QuorumError('MEMBERSHIP_UNAVAILABLE', 'no stored Teams conversation for this channel');
        try {
          roster = await fetchRoster(stored.reference, rosterKey);
        } catch (err) {
          throw new QuorumError('MEMBERSHIP_UNAVAILABLE', 'Teams did not return the roster', { cause: err });
        }
        rosters.set(key, roster);
      }
      return roster.has(userId);
    },

    invalidate(message) {
      if (message.kind === 'all') rosters.clear();
      if (message.kind === 'workspace')
        for (const key of [...rosters.keys()]) if (key.startsWith(`${message.workspace.externalId}|`)) rosters.delete(key);
      if (message.kind === 'channel') rosters.delete(cacheKey(message.workspace, message.channelId));
      if (message.kind !== 'members') return;
      const roster = rosters.get(cacheKey(message.workspace, message.channelId));
      if (!roster) return; // not cached: the next check reads it fresh
      for (const id of message.added) roster.add(id);
      for (const id of message.removed) roster.delete(id);
    },
  };
}
