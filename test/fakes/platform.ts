/** Hand-written fakes of the platform ports: membership and roles from maps, replies recorded. */
import type { UserFacts } from '../../src/core/identity.js';
import { QuorumError } from '../../src/core/errors.js';
import type { OutgoingReply, PlatformPorts, ReplyTarget } from '../../src/core/ports.js';

export class FakePlatform implements PlatformPorts {
  readonly posted: { target: ReplyTarget; reply: OutgoingReply }[] = [];
  readonly progressed: { target: ReplyTarget; status: string }[] = [];
  /** channel id -> member user ids */
  readonly members = new Map<string, Set<string>>();
  /** user id -> facts; unknown users are members */
  readonly users = new Map<string, UserFacts>();
  membershipDown = false;

  membership = {
    isMember: async (_w: unknown, channel: { id: string }, userId: string) => {
      if (this.membershipDown) throw new QuorumError('MEMBERSHIP_UNAVAILABLE', 'fake platform is down');
      return this.members.get(channel.id)?.has(userId) ?? false;
    },
  };

  directory = {
    lookup: async (_w: unknown, user: { id: string }): Promise<UserFacts> =>
      this.users.get(user.id) ?? { platformRole: 'member', deleted: false },
  };

  replies = {
    post: async (target: ReplyTarget, reply: OutgoingReply) => {
      this.posted.push({ target, reply });
      return { platformMessageId: `m${this.posted.length}` };
    },
    progress: async (target: ReplyTarget, status: string) => {
      this.progressed.push({ target, status });
    },
  };

  join(channelId: string, ...userIds: string[]): this {
    const set = this.members.get(channelId) ?? new Set<string>();
    for (const u of userIds) set.add(u);
    this.members.set(channelId, set);
    return this;
  }
}
