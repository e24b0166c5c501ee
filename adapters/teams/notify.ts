/**
 * Direct messages from Quorum to one user (PlatformPorts.notify): a proactive post into the
 * user's 1:1 chat with the bot, found from the reference stored when they last wrote there. A
 * bot cannot open a 1:1 chat without one (it would need the user's Teams id and an install for
 * them), so a user who never chatted with Quorum 1:1 is 'unreachable'.
 */
import { ActivityTypes, TextFormatTypes, TurnContext, type ConversationReference } from 'botbuilder';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { PlatformPorts } from '../../src/core/ports.js';
import type { TeamsReplyRoute } from './activity.js';
import { safely } from './replies.js';
import { keys, type TeamsRuntime } from './runtime.js';

export function createNotify(runtime: TeamsRuntime): NonNullable<PlatformPorts['notify']> {
  return async (workspace: WorkspaceRef, userId: string, text: string) => {
    const personal = (await runtime.refs.load(workspace, keys.personal(userId)))?.conversationKey;
    const chat = typeof personal === 'string' ? await runtime.loadConversation(workspace, personal) : null;
    if (!chat || chat.kind !== 'personal') {
      runtime.log.info({ event: 'teams.notify_skipped', tenant: workspace.externalId }, 'no 1:1 chat with this user: direct message skipped');
      return 'unreachable';
    }
    try {
      await runtime.inConversation(chat.reference, async (context) => {
        // A new message in the chat: context.sendActivity would reply to the proactive turn's made-up activity id.
        const activity = TurnContext.applyConversationReference(
          safely({ type: ActivityTypes.Message, text, textFormat: TextFormatTypes.Markdown }),
          chat.reference as Partial<ConversationReference>,
        );
        await context.adapter.sendActivities(context, [activity]);
      });
    } catch (err) {
      throw new QuorumError('REPLY_FAILED', 'Teams did not take the direct message', { cause: err });
    }
    return 'sent';
  };
}

/** The user's 1:1 chat with the bot, as a private place to answer them in; null when they never chatted 1:1. */
export function createPrivateChannel(runtime: TeamsRuntime): NonNullable<PlatformPorts['privateChannel']> {
  return async (workspace: WorkspaceRef, userId: string) => {
    const personal = (await runtime.refs.load(workspace, keys.personal(userId)))?.conversationKey;
    const chat = typeof personal === 'string' ? await runtime.loadConversation(workspace, personal) : null;
    if (!chat || chat.kind !== 'personal' || typeof personal !== 'string') return null;
    const route: TeamsReplyRoute = { conversationKey: personal, conversationId: personal, replyToId: personal, kind: 'personal' };
    return { channel: { id: personal, kind: 'dm' }, replyRoute: route };
  };
}
