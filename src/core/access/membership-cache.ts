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
   * key -> expiry in seconds since the cache was made, negated when the user is not a member: a
   * small integer (a V8 Smi, stored inline) rather than a boxed millisecond timestamp.
   */
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly epoch: number;

  constructor(
    private readonly source: MembershipSource,
    options: MembershipCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 500_000;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.epoch = this.now();
  }

  /** Seconds since the cache was made, rounded up so that an entry is never stale at its own second. */
  private clock(): number {
    return Math.ceil((this.now() - this.epoch) / 1000);
  }

  get size(): number {
    return this.entries.size;
  }

  async isMember(workspace: WorkspaceRef, channel: ChannelRef, userId: string): Promise<boolean> {
    const key = keyOf(workspace, channel.id, userId);
    const hit = this.lookup(key);
    if (hit !== undefined) return hit;
    // Errors (MEMBERSHIP_UNAVAILABLE) pass through uncached: the caller fails closed.
    const member = await this.source.isMember(workspace, channel, userId);
    this.store(key, member);
    return member;
  }

  /** The cached answer, if fresh; refreshes its recency. */
  lookup(key: string): boolean | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    if (Math.abs(value) < this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, value);
    return value > 0;
  }

  joined(workspace: WorkspaceRef, channelId: string, userId: string): void {
    this.store(keyOf(workspace, channelId, userId), true);
  }

  left(workspace: WorkspaceRef, channelId: string, userId: string): void {
    this.store(keyOf(workspace, channelId, userId), false);
  }

  private store(key: string, member: boolean): void {
    // +1: a zero would lose the member/non-member sign.
    const expiry = this.clock() + Math.ceil(this.ttlMs / 1000) + 1;
    this.entries.delete(key);
    this.entries.set(key, member ? expiry : -expiry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** Namespaced so that ids of two workspaces or platforms never collide. */
export function keyOf(workspace: WorkspaceRef, channelId: string, userId: string): string {
  return `${workspace.platform}\u0000${workspace.externalId}\u0000${channelId}\u0000${userId}`;
}
