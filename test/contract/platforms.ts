/**
 * The platforms the port contract runs over. Each starts the real service with its adapter on a
 * local fake of the platform API, and answers the contract's questions the platform's way: where
 * a reply lands, what a client shows there, how to make the platform throttle. Reply targets come
 * from recorded fixtures posted through the adapter's own endpoint (signed), read back from the
 * inbox; the worker is stopped first, so the contract alone writes to those places.
 */
import { desc } from 'drizzle-orm';
import type { EnvelopeInput, UserRef, WorkspaceRef, ChannelRef } from '../../src/core/envelope.js';
import { envelopeSchema } from '../../src/core/envelope.js';
import type { PlatformPorts, ReplyTarget } from '../../src/core/ports.js';
import { replyTargetOf } from '../../src/core/turn.js';
import { inbox } from '../../src/db/schema.js';
import { MAX_MESSAGE_CHARS } from '../../adapters/slack/replies.js';
import type { TeamsReplyRoute } from '../../adapters/teams/activity.js';
import { FakeSlackApi } from '../fakes/slack-api.js';
import type { TestApp } from '../support/app.js';
import { useDatabaseWith, type Driver, type TestDatabase } from '../support/db.js';
import { freshEvent, postSlack, startSlackApp } from '../slack/support.js';
import { ALEX, activity, startTeams, type Activity } from '../teams/helpers.js';

/** Where a reply goes: a channel thread, a place the platform streams in, one where it cannot. */
export type Place = 'thread' | 'stream' | 'flat';

export interface ShownMessage {
  id: string;
  text: string;
  streaming: boolean;
}

export interface PlatformUnderTest {
  name: 'slack' | 'teams';
  ports(): PlatformPorts;
  /** A new conversation place (a new thread or reply chain) and the reply target of a message there. */
  target(place: Place): Promise<ReplyTarget>;
  /** The bot's messages a client shows at the target (its thread or reply chain), oldest first. */
  shown(target: ReplyTarget): ShownMessage[];
  /** The longest message the adapter posts. */
  maxChars: number;
  /** The platform answers the next message post with 429 and Retry-After: 1. */
  throttleNextPost(): void;
  /** How many times a message was sent to the target's place (refused ones included). */
  postAttempts(target: ReplyTarget): number;
  /**
   * Writes messages into the target's thread as people would (oldest first), where the platform's
   * history can be read; null where the adapter has no history port.
   */
  seedThread: ((target: ReplyTarget, messages: { userId: string; text: string }[]) => void) | null;
  /** Someone the platform cannot answer for right now; `restore` makes it answer again. */
  directoryFailure(): { user: UserRef; restore(): void };
  /** A channel, someone in it and someone not, someone the platform calls a guest. */
  people: { workspace: WorkspaceRef; channel: ChannelRef; member: UserRef; outsider: UserRef; guest: UserRef };
}

/** The envelope of the newest inbox row, as the adapter mapped it. */
async function newestTarget(db: TestDatabase): Promise<ReplyTarget> {
  const [row] = await db.db.select({ envelope: inbox.envelope }).from(inbox).orderBy(desc(inbox.id)).limit(1);
  if (!row) throw new Error('the adapter stored nothing');
  return replyTargetOf(envelopeSchema.parse(row.envelope as EnvelopeInput));
}

function expectOk(status: number): void {
  if (status !== 200) throw new Error(`the adapter answered ${status}`);
}

const SLACK_CHANNEL = 'C0ACMEGEN1';

export function useSlack(driver: Driver): PlatformUnderTest {
  const ctx = useDatabaseWith(driver, async (db, cleanup) => {
    const api = await new FakeSlackApi().start();
    cleanup(() => api.stop());
    api.rosters.set(SLACK_CHANNEL, ['U0ACMEMEM1', 'U0ACMEOWN1', 'U0ACMEGST1']);
    const app: TestApp = await startSlackApp(db, api);
    cleanup(() => app.stop());
    await app.running.worker.stop(0);
    return { api, app };
  });
  const threadOf = (t: ReplyTarget) => (t.threadId === undefined ? undefined : t.threadId);
  return {
    name: 'slack',
    ports: () => ctx.app.running.deps.platforms.slack!,
    async target(place) {
      // A mention starts a thread under it (Slack streams there); a top-level DM has no thread.
      const event = place === 'flat' ? freshEvent('message_im', { text: 'contract' }) : freshEvent('app_mention', { text: '<@U0ACMEBOT1> contract' });
      expectOk((await postSlack(ctx.app, event)).status);
      return newestTarget(ctx.db);
    },
    shown: (t) => ctx.api.visible(t.channel.id, threadOf(t)).map((m) => ({ id: m.ts, text: m.text, streaming: m.streaming })),
    seedThread: (t, messages) => {
      const root = threadOf(t)!;
      ctx.api.seed(t.channel.id, ...messages.map((m, i) => ({ user: m.userId, text: m.text, ts: i === 0 ? root : `${Number(root.split('.')[0]) + i}.000100`, thread_ts: root })));
    },
    directoryFailure: () => {
      ctx.api.errors.set('users.info', { error: 'internal_error' });
      return { user: { id: 'U0ACMENEW01' }, restore: () => ctx.api.errors.delete('users.info') };
    },
    maxChars: MAX_MESSAGE_CHARS,
    throttleNextPost: () => ctx.api.rateLimits.set('chat.postMessage', { times: 1, retryAfter: 1 }),
    postAttempts: (t) => ctx.api.called('chat.postMessage').filter((c) => c.params.channel === t.channel.id && c.params.thread_ts === threadOf(t)).length,
    people: {
      workspace: { platform: 'slack', externalId: 'T0ACME0001' },
      channel: { id: SLACK_CHANNEL, kind: 'channel' },
      member: { id: 'U0ACMEMEM1' },
      outsider: { id: 'U0ACMEADM1' },
      guest: { id: 'U0ACMEGST1' },
    },
  };
}

const TEAMS_CHANNEL = '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2';
const TEAMS_MAX_CHARS = 300;

export function useTeams(driver: Driver): PlatformUnderTest {
  let seq = 0;
  const fresh = (a: Activity): Activity => ({ ...a, id: `${Date.now()}${String(++seq).padStart(4, '0')}` });
  const ctx = useDatabaseWith(driver, async (db, cleanup) => {
    const teams = await startTeams(db, { maxReplyChars: TEAMS_MAX_CHARS });
    cleanup(() => teams.stop());
    await teams.app.running.worker.stop(0);
    // A channel mention by a member and a 1:1 message from a guest: the adapter now knows the
    // channel's team (membership) and where to look each of them up (directory).
    expectOk((await teams.post(fresh(activity('channel_mention', teams.connector.url)))).status);
    expectOk((await teams.post(fresh(activity('guest_personal_message', teams.connector.url)))).status);
    return { teams };
  });
  const route = (t: ReplyTarget) => t.replyRoute as TeamsReplyRoute;
  return {
    name: 'teams',
    ports: () => ctx.teams.app.running.deps.platforms.teams!,
    async target(place) {
      // Teams streams in 1:1 chats only; a channel mention opens its own reply chain.
      const a =
        place === 'stream'
          ? fresh(activity('personal_message', ctx.teams.connector.url, (x) => (x.text = 'contract')))
          : fresh(activity('channel_mention', ctx.teams.connector.url));
      if (place !== 'stream') a.conversation = { ...(a.conversation as object), id: `${TEAMS_CHANNEL};messageid=${a.id}` };
      expectOk((await ctx.teams.post(a)).status);
      return newestTarget(ctx.db);
    },
    shown: (t) =>
      ctx.teams.connector
        .visible(route(t).conversationId)
        .filter((m) => m.replyToId === route(t).replyToId)
        .map((m) => ({ id: m.id, text: m.text, streaming: m.streaming })),
    // Reading a channel's messages needs Microsoft Graph, which the adapter does not use.
    seedThread: null,
    // Teams is asked in a conversation the user wrote in: someone who never wrote cannot be looked up.
    directoryFailure: () => ({ user: { id: '7d5b3f1e-9a8c-4b6d-8e2f-4a6c8e0b2d4f' }, restore: () => {} }),
    maxChars: TEAMS_MAX_CHARS,
    throttleNextPost: () => ctx.teams.connector.throttle(1, 1),
    postAttempts: (t) => ctx.teams.connector.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/activities/${route(t).replyToId}`)).length,
    people: {
      workspace: { platform: 'teams', externalId: '3f8d2c1a-5b7e-4d9f-8a6c-2e4b1d7f9a3c' },
      channel: { id: TEAMS_CHANNEL, kind: 'channel' },
      member: { id: ALEX },
      outsider: { id: '5e3c1a9f-7b2d-4e6a-8c0f-1a3b5c7d9e0f' },
      guest: { id: '6f4d2b0e-8c7a-4e9f-b1d3-5e7a9c1e3f5b' },
    },
  };
}
