/**
 * A bounded, TTL'd cache in front of a platform's MembershipSource. Join and leave events
 * (`joined`/`left`) overwrite the entry at once, so a revoked member is refused on the very next
 * turn; the TTL catches events that never arrived. Least recently used entries go first when the
 * bound is reached, so memory stays flat however many channels a workspace has.
 * Adapters wrap their source with it: `new MembershipCache(source)`, and call joined/left from
 * their member_joined_channel / member_left_channel (Teams conversationUpdate) handlers.
 */
import type { ChannelRef, WorkspaceRef } from '../envelope.js';
import type { MembershipSource } from '../ports.js';

export interface MembershipCacheOptions {
  /** Most entries kept (one per channel × user asked about). */
  maxEntries?: number;
  ttlMs?: number;
  now?: () => number;
}

export class MembershipCache implements MembershipSource {
  /**
   * channel key -> (user id -> expiry in seconds since the cache was made, negated when the user
   * is not a member). Grouping by channel stores each channel's key once, and a small integer (a
   * V8 Smi) is stored inline where a millisecond timestamp would be boxed. The outer map's order
   * is recency: the least recently used channel is evicted first.
   */
  private readonly channels = new Map<string, Map<string, number>>();
  private count = 0;
  private readonly maxEntries: number;
  private readonly ttlSeconds: number;
  private readonly now: () => number;
  private readonly epoch: number;

  constructor(
    private readonly source: MembershipSource,
    options: MembershipCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 500_000;
    this.ttlSeconds = Math.ceil((options.ttlMs ?? 5 * 60_000) / 1000);
    this.now = options.now ?? Date.now;
    this.epoch = this.now();
  }

  /** Entries held (one per channel × user asked about). */
  get size(): number {
    return this.count;
  }

  async isMember(workspace: WorkspaceRef, channel: ChannelRef, userId: string): Promise<boolean> {
    const hit = this.lookup(workspace, channel.id, userId);
    if (hit !== undefined) return hit;
    // Errors (MEMBERSHIP_UNAVAILABLE) pass through uncached: the caller fails closed.
    const member = await this.source.isMember(workspace, channel, userId);
    this.store(workspace, channel.id, userId, member);
    return member;
  }

  /** The cached answer, if fresh; refreshes the channel's recency. */
  lookup(workspace: WorkspaceRef, channelId: string, userId: string): boolean | undefined {
    const key = channelKey(workspace, channelId);
    const users = this.channels.get(key);
    const value = users?.get(userId);
    if (users === undefined || value === undefined) return undefined;
    if (Math.abs(value) < this.clock()) {
      users.delete(userId);
      this.count--;
      return undefined;
    }
    this.channels.delete(key);
    this.channels.set(key, users);
    return value > 0;
  }

  joined(workspace: WorkspaceRef, channelId: string, userId: string): void {
    this.store(workspace, channelId, userId, true);
  }

  left(workspace: WorkspaceRef, channelId: string, userId: string): void {
    this.store(workspace, channelId, userId, false);
  }

  /** Seconds since the cache was made, rounded up so that an entry is never stale within its own second. */
  private clock(): number {
    return Math.ceil((this.now() - this.epoch) / 1000);
  }

  private store(workspace: WorkspaceRef, channelId: string, userId: string, member: boolean): void {
    const key = channelKey(workspace, channelId);
    const users = this.channels.get(key) ?? new Map<string, number>();
    if (!users.has(userId)) this.count++;
    // +1: a zero would lose the member/non-member sign.
    const expiry = this.clock() + this.ttlSeconds + 1;
    users.set(userId, member ? expiry : -expiry);
    this.channels.delete(key);
    this.channels.set(key, users);
    while (this.count > this.maxEntries) {
      const [oldestKey, oldest] = this.channels.entries().next().value as [string, Map<string, number>];
      this.channels.delete(oldestKey);
      this.count -= oldest.size;
    }
  }
}

/** Namespaced so that ids of two workspaces or platforms never collide. */
export function channelKey(workspace: WorkspaceRef, channelId: string): string {
  return `${workspace.platform}\u0000${workspace.externalId}\u0000${channelId}`;
}
