/**
 * Event listeners: messages into the inbox (before the ack); membership, channel and user changes
 * published to every instance's caches; uninstalls.
 */
import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { EnvelopeInput, WorkspaceRef } from '../../src/core/envelope.js';
import type { Intake } from '../../src/core/intake.js';
import type { Invalidation } from '../../src/core/invalidation.js';
import type { Logger } from '../../src/core/ports.js';
import type { KnowledgeIntake } from '../../src/core/knowledge/indexer.js';
import { eventBodySchema, messageEnvelope, messageEventSchema, workspaceOf } from './events.js';
import { archived, deleted, observeFile, observeMessage, type ChannelChange } from './knowledge-events.js';

export interface EventDeps {
  intake: Intake;
  /** Tells every instance (this one at once) that access changed. */
  publish(message: Invalidation): Promise<void>;
  log: Logger;
  /** Deletes the workspace's tokens and marks it uninstalled. */
  uninstall(workspace: WorkspaceRef, installKeys: string[]): Promise<void>;
  /** The assistant panel and App Home (assistant.ts); without them those events are acked and ignored. */
  surfaces?: {
    listeners: Record<(typeof SURFACE_EVENTS)[number], Listener>;
    /** Adds an assistant thread's context to a DM thread question. */
    inThread(envelope: EnvelopeInput): Promise<EnvelopeInput>;
  };
  /** The knowledge index, told of messages, edits, deletions and the bot joining channels. */
  knowledge?: KnowledgeIntake | undefined;
}

type Listener = (args: { body: unknown; event: unknown; context: { botUserId?: string; retryNum?: number } }) => Promise<void>;

/** The assistant panel's and the Home tab's events. */
export const SURFACE_EVENTS = ['app_home_opened', 'assistant_thread_started', 'assistant_thread_context_changed'] as const;

const memberEventSchema = z.object({ user: z.string().min(1), channel: z.string().min(1) });
/** channel_archive and friends: `channel` is an id (channel_created/rename carry an object; not listened to). */
const channelEventSchema = z.object({ channel: z.string().min(1) });
const userEventSchema = z.object({ user: z.object({ id: z.string().min(1) }) });

/** The event types Quorum acts on: the manifest subscribes to each (test/slack/manifest.test.ts). */
export const EVENT_TYPES = [
  'app_mention',
  'message',
  'member_joined_channel',
  'member_left_channel',
  'channel_archive',
  'group_archive',
  'channel_unarchive',
  'group_unarchive',
  'channel_deleted',
  'group_deleted',
  'channel_left',
  'group_left',
  'user_change',
  'file_deleted',
  'file_change',
  'app_uninstalled',
  'tokens_revoked',
  ...SURFACE_EVENTS,
] as const;

/** The assistant panel's and the Home tab's listeners; without the surfaces those events are acked and ignored. */
function surfaceListeners(surfaces: EventDeps['surfaces']): Record<(typeof SURFACE_EVENTS)[number], Listener> {
  const ignored: Listener = async () => {};
  return surfaces?.listeners ?? { app_home_opened: ignored, assistant_thread_started: ignored, assistant_thread_context_changed: ignored };
}

export function registerEvents(app: App, deps: EventDeps): void {
  const { intake, log } = deps;

  const onMessage = async ({ body, event, context }: { body: unknown; event: unknown; context: { botUserId?: string; retryNum?: number } }) => {
    // Every message keeps the index true (app_mention repeats a channel message: not indexed twice).
    if (deps.knowledge) await observeMessage(deps.knowledge, body, event);
    const parsedBody = eventBodySchema.safeParse(body);
    const parsedEvent = messageEventSchema.safeParse(event);
    if (!parsedBody.success || !parsedEvent.success) {
      log.warn({ event: 'slack.unreadable_event' }, 'Slack event without the expected fields ignored');
      return;
    }
    const mapped = messageEnvelope(parsedBody.data, parsedEvent.data, context.botUserId);
    if ('skip' in mapped) {
      log.debug({ event: 'slack.event_skipped', reason: mapped.skip }, 'Slack event needs no answer');
      return;
    }
    // Throws when the inbox cannot store it: Bolt then answers 500 and Slack retries later.
    const result = await intake.submit(deps.surfaces ? await deps.surfaces.inThread(mapped) : mapped);
    if (result.status === 'duplicate') {
      log.info({ event: 'slack.duplicate', retry: context.retryNum ?? 0 }, 'Slack delivery already taken: acked and dropped');
    } else if (result.status === 'invalid') {
      log.warn({ event: 'slack.invalid_envelope', problems: result.problems }, 'Slack event could not be mapped');
    }
  };
  const onMember = (joined: boolean) => async ({ body, event, context }: { body: unknown; event: unknown; context: { botUserId?: string } }) => {
    const where = workspaceOf(eventBodySchema.parse(body));
    const parsed = memberEventSchema.safeParse(event);
    if (!where || !parsed.success) return;
    const { channel, user } = parsed.data;
    // The bot itself was added: the channel's history is indexed in the background.
    if (joined && deps.knowledge && context.botUserId && user === context.botUserId) await deps.knowledge.botJoined(where.ref, { id: channel, kind: 'channel' });
    await deps.publish({ kind: 'members', workspace: where.ref, channelId: channel, added: joined ? [user] : [], removed: joined ? [] : [user] });
  };
  // Archived: nobody is answered from it until it is unarchived. Deleted, or the bot removed: asked again.
  const onChannel = (state: 'archived' | 'open' | 'unknown', knowledgeChange?: ChannelChange) => async ({ body, event }: { body: unknown; event: unknown }) => {
    const where = workspaceOf(eventBodySchema.parse(body));
    const parsed = channelEventSchema.safeParse(event);
    if (!where || !parsed.success) return;
    await deps.publish({ kind: 'channel', workspace: where.ref, channelId: parsed.data.channel, state });
    if (deps.knowledge && knowledgeChange) await knowledgeChange(deps.knowledge, where.ref, parsed.data.channel);
  };
  const onFile = (change: 'deleted' | 'changed') => async ({ body, event }: { body: unknown; event: unknown }) => {
    if (deps.knowledge) await observeFile(deps.knowledge, workspaceOf(eventBodySchema.parse(body))?.ref, event, change);
  };
  // A profile, role or deactivation change: what is cached about the user is asked again.
  const onUser = async ({ body, event }: { body: unknown; event: unknown }) => {
    const where = workspaceOf(eventBodySchema.parse(body));
    const parsed = userEventSchema.safeParse(event);
    if (!where || !parsed.success) return;
    await deps.publish({ kind: 'user', workspace: where.ref, userId: parsed.data.user.id });
  };

  // Bolt skips authorize for these two; they may come in either order, so both do the whole job (idempotent).
  const onRemoved = async ({ body }: { body: unknown }) => {
    const parsed = eventBodySchema.parse(body);
    const where = workspaceOf(parsed);
    if (!where) return;
    const keys = [where.route.teamId, where.route.isEnterpriseInstall && where.route.enterpriseId ? `enterprise:${where.route.enterpriseId}` : null];
    await deps.uninstall(where.ref, keys.filter((k): k is string => Boolean(k)));
    log.info({ event: 'slack.uninstalled', workspace: where.ref.externalId }, 'Slack workspace removed the app: tokens deleted');
  };

  const listeners: Record<(typeof EVENT_TYPES)[number], Listener> = {
    app_mention: onMessage,
    message: onMessage,
    member_joined_channel: onMember(true),
    member_left_channel: onMember(false),
    channel_archive: onChannel('archived', archived(true)),
    group_archive: onChannel('archived', archived(true)),
    channel_unarchive: onChannel('open', archived(false)),
    group_unarchive: onChannel('open', archived(false)),
    channel_deleted: onChannel('unknown', deleted),
    group_deleted: onChannel('unknown', deleted),
    channel_left: onChannel('unknown'),
    group_left: onChannel('unknown'),
    user_change: onUser,
    file_deleted: onFile('deleted'),
    file_change: onFile('changed'),
    app_uninstalled: onRemoved,
    tokens_revoked: onRemoved,
    ...surfaceListeners(deps.surfaces),
  };
  // One Bolt listener for all of them: Bolt runs every registered listener's middleware chain on
  // every delivery, so six registrations cost six chains (and their argument copies) per event.
  const types = new RegExp(`^(?:${EVENT_TYPES.join('|')})$`);
  app.event(types, async (args) => {
    const { type } = args.event as { type: (typeof EVENT_TYPES)[number] };
    await listeners[type](args as Parameters<Listener>[0]);
  });
}
