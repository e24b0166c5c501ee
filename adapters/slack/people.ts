/**
 * UserDirectory (users.info) and MembershipSource (conversations.members) for the core, both
 * cached (bounded LRU with a TTL as the fallback), failing closed with a QuorumError code, and
 * told of every change by the invalidation bus, whichever instance the event reached.
 */
import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import type { ChannelRef, UserRef, WorkspaceRef } from '../../src/core/envelope.js';
import { QuorumError, isQuorumError } from '../../src/core/errors.js';
import type { UserFacts } from '../../src/core/identity.js';
import type { Invalidation } from '../../src/core/invalidation.js';
import type { MembershipSource, UserDirectory } from '../../src/core/ports.js';
import { LRUCache } from 'lru-cache';
import type { TokenSource } from './tokens.js';

type WebClient = webApi.WebClient;

const userInfoSchema = z.object({
  user: z.object({
    id: z.string(),
    team_id: z.string().optional(),
    deleted: z.boolean().optional(),
    is_bot: z.boolean().optional(),
    is_owner: z.boolean().optional(),
    is_primary_owner: z.boolean().optional(),
    is_admin: z.boolean().optional(),
    is_restricted: z.boolean().optional(),
    is_ultra_restricted: z.boolean().optional(),
    real_name: z.string().optional(),
    enterprise_user: z.object({ enterprise_id: z.string().optional() }).optional(),
    profile: z.object({ display_name: z.string().optional(), real_name: z.string().optional() }).optional(),
  }),
});

const membersPageSchema = z.object({
  members: z.array(z.string()),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

export interface PeopleOptions {
  client: WebClient;
  tokens: TokenSource;
  ttlMs?: number;
  maxUsers?: number;
  maxChannels?: number;
  /** Bounds a roster walk: pages × 1000 members. */
  maxPages?: number;
  /** The caches' clock (tests move it instead of waiting). */
  clock?: { now(): number };
}

/** The caches' options: lru-cache drops the least recently used entry when full, and expired ones on read. */
function cacheOptions(options: PeopleOptions, max: number, ttl: number) {
  // A given clock is read on every check (lru-cache otherwise keeps its reading for a millisecond).
  return { max, ttl, ...(options.clock ? { perf: options.clock, ttlResolution: 0 } : {}) };
}

/** Deletes every key that starts with `prefix` (a workspace's, a user's). */
function deletePrefix(cache: { keys(): Iterable<string>; delete(key: string): unknown }, prefix: string): void {
  for (const key of [...cache.keys()]) if (key.startsWith(prefix)) cache.delete(key);
}

/** Slack's flags to a role, owner before admin (an owner has is_admin too); another org's user is external. */
export function factsFromUser(workspace: WorkspaceRef, user: UserRef, info: z.infer<typeof userInfoSchema>['user']): UserFacts {
  const displayName = info.profile?.display_name || info.real_name || info.profile?.real_name || undefined;
  const sameEnterprise = workspace.enterpriseId !== undefined && info.enterprise_user?.enterprise_id === workspace.enterpriseId;
  const homeTeam = user.homeWorkspaceId ?? info.team_id;
  const foreign = homeTeam !== undefined && homeTeam !== workspace.externalId && homeTeam !== workspace.enterpriseId && !sameEnterprise;
  const platformRole: UserFacts['platformRole'] = foreign
    ? 'external'
    : info.is_owner || info.is_primary_owner
      ? 'owner'
      : info.is_admin
        ? 'admin'
        : info.is_restricted || info.is_ultra_restricted
          ? 'guest'
          : 'member';
  return { platformRole, deleted: info.deleted === true, ...(displayName ? { displayName } : {}) };
}

export interface Directory extends UserDirectory {
  /** Applies a change told by the invalidation bus (users: profile, role, deactivation; workspaces). */
  invalidate(message: Invalidation): void;
}

export function createDirectory(options: PeopleOptions): Directory {
  const cache = new LRUCache<string, UserFacts>(cacheOptions(options, options.maxUsers ?? 10_000, options.ttlMs ?? 10 * 60_000));
  return {
    async lookup(workspace, user) {
      const key = `${workspace.externalId}:${user.id}:${user.homeWorkspaceId ?? ''}`;
      const cached = cache.get(key);
      if (cached) return cached;
      try {
        const { token } = await options.tokens.forWorkspace(workspace);
        const res = userInfoSchema.parse(await options.client.users.info({ token, user: user.id }));
        const facts = factsFromUser(workspace, user, res.user);
        cache.set(key, facts);
        return facts;
      } catch (err) {
        // Slack says there is no such user: nobody, with no role (the core answers nothing and runs nothing).
        if (isUserNotFound(err)) return { platformRole: 'guest', deleted: true };
        // Removed from the workspace: no retry can help (the worker drops the turn).
        if (isQuorumError(err, 'UNKNOWN_WORKSPACE')) throw err;
        throw new QuorumError('DIRECTORY_UNAVAILABLE', 'Slack users.info failed', { cause: err });
      }
    },
    invalidate(message) {
      if (message.kind === 'all') cache.clear();
      else if (message.kind === 'workspace') deletePrefix(cache, `${message.workspace.externalId}:`);
      else if (message.kind === 'user') deletePrefix(cache, `${message.workspace.externalId}:${message.userId}:`);
    },
  };
}

function isUserNotFound(err: unknown): boolean {
  return (err as { data?: { error?: string } })?.data?.error === 'user_not_found';
}

/** A channel's members as last read, with the events applied since; an archived channel admits nobody. */
interface Roster {
  members: Set<string>;
  archived: boolean;
}

export interface Membership extends MembershipSource {
  /** Applies a change told by the invalidation bus: joins and leaves, archived or deleted channels, workspaces. */
  invalidate(message: Invalidation): void;
}

/** How long an archive event keeps a channel closed on this instance without being asked again. */
const ARCHIVED_TTL_MS = 24 * 3_600_000;

type RecentChanges = Map<string, { joined: boolean; at: number }> | undefined;

/** A channel's members, page by page, with the join and leave events seen while the walk ran applied on top. */
async function walkRoster(options: PeopleOptions, maxPages: number, workspace: WorkspaceRef, channel: ChannelRef, recent: () => RecentChanges): Promise<Roster> {
  const started = Date.now();
  const { token } = await options.tokens.forWorkspace(workspace);
  const members = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const res = membersPageSchema.parse(
      await options.client.conversations.members({ token, channel: channel.id, limit: 1000, ...(cursor ? { cursor } : {}) }),
    );
    for (const m of res.members) members.add(m);
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  if (cursor) throw new Error(`roster of more than ${maxPages} pages`);
  for (const [user, change] of recent() ?? []) {
    if (change.at < started) continue;
    if (change.joined) members.add(user);
    else members.delete(user);
  }
  return { members, archived: false };
}

export function createMembership(options: PeopleOptions): Membership {
  const maxChannels = options.maxChannels ?? 2_000;
  const rosters = new LRUCache<string, Roster>(cacheOptions(options, maxChannels, options.ttlMs ?? 5 * 60_000));
  const inFlight = new Map<string, Promise<Roster>>();
  // Join/leave events seen while a roster walk was running: applied on top of its (older) result.
  const changes = new LRUCache<string, Map<string, { joined: boolean; at: number }>>(cacheOptions(options, maxChannels, 60_000));
  const maxPages = options.maxPages ?? 50;
  const keyOf = (workspace: WorkspaceRef, channelId: string) => `${workspace.externalId}:${channelId}`;

  const fetchRoster = (workspace: WorkspaceRef, channel: ChannelRef) =>
    walkRoster(options, maxPages, workspace, channel, () => changes.get(keyOf(workspace, channel.id)));

  function changed(key: string, userId: string, joined: boolean): void {
    const roster = rosters.get(key);
    if (roster) {
      if (joined) roster.members.add(userId);
      else roster.members.delete(userId);
    }
    const seen = changes.get(key) ?? new Map<string, { joined: boolean; at: number }>();
    seen.set(userId, { joined, at: Date.now() });
    changes.set(key, seen);
  }

  return {
    async isMember(workspace, channel, userId) {
      const key = keyOf(workspace, channel.id);
      let roster = rosters.get(key);
      if (!roster) {
        let pending = inFlight.get(key);
        if (!pending) {
          pending = fetchRoster(workspace, channel).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        try {
          roster = await pending;
        } catch (err) {
          throw new QuorumError('MEMBERSHIP_UNAVAILABLE', 'Slack conversations.members failed', { cause: err });
        }
        // An invalidation that arrived during the walk wins: the walk's answer is used once, not kept.
        if (!rosters.has(key)) rosters.set(key, roster);
      }
      return !roster.archived && roster.members.has(userId);
    },
    invalidate(message) {
      switch (message.kind) {
        case 'members': {
          const key = keyOf(message.workspace, message.channelId);
          for (const id of message.added) changed(key, id, true);
          for (const id of message.removed) changed(key, id, false);
          return;
        }
        case 'channel': {
          const key = keyOf(message.workspace, message.channelId);
          if (message.state === 'archived') rosters.set(key, { members: new Set(), archived: true }, { ttl: ARCHIVED_TTL_MS });
          else rosters.delete(key);
          return;
        }
        case 'workspace':
          deletePrefix(rosters, `${message.workspace.externalId}:`);
          return;
        case 'all':
          rosters.clear();
          return;
        case 'user':
          return;
      }
    },
  };
}
