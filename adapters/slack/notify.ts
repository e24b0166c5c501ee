/**
 * Direct messages from Quorum to one user (PlatformPorts.notify): conversations.open (scope
 * im:write) finds or opens the bot's DM with the user, chat.postMessage posts there. Errors
 * carry Slack's error code, never the text.
 */
import type { webApi } from '@slack/bolt';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { PlatformPorts } from '../../src/core/ports.js';
import type { SlackReplyRoute } from './events.js';
import { slackError } from './history.js';
import { markdownMessage } from './markdown.js';
import type { TokenSource } from './tokens.js';

export function createNotify(options: { client: webApi.WebClient; tokens: TokenSource }): NonNullable<PlatformPorts['notify']> {
  const { client, tokens } = options;
  return async (workspace: WorkspaceRef, userId: string, text: string) => {
    let step = 'conversations.open';
    try {
      const { token } = await tokens.forWorkspace(workspace);
      const channel = await openDm(client, token, userId);
      step = 'chat.postMessage';
      await client.chat.postMessage({ token, channel, ...markdownMessage(text) });
      return 'sent';
    } catch (err) {
      throw new QuorumError('REPLY_FAILED', `Slack ${step} failed: ${slackError(err)}`, { cause: err });
    }
  };
}

/** The id of the app's DM with one user (conversations.open); throws when Slack names none. */
export async function openDm(client: webApi.WebClient, token: string, userId: string): Promise<string> {
  const opened = await client.conversations.open({ token, users: userId });
  if (!opened.channel?.id) throw new Error('no channel in the answer');
  return opened.channel.id;
}

/** The app's DM with one user (conversations.open), as a private place to answer them in. */
export function createPrivateChannel(options: { client: webApi.WebClient; tokens: TokenSource }): NonNullable<PlatformPorts['privateChannel']> {
  const { client, tokens } = options;
  return async (workspace, userId) => {
    const { token } = await tokens.forWorkspace(workspace);
    const opened = await client.conversations.open({ token, users: userId }).catch((err: unknown) => {
      throw new QuorumError('REPLY_FAILED', `Slack conversations.open failed: ${slackError(err)}`, { cause: err });
    });
    const id = opened.channel?.id;
    if (!id) return null;
    const route: SlackReplyRoute = { teamId: workspace.externalId, enterpriseId: workspace.enterpriseId ?? null, isEnterpriseInstall: false };
    return { channel: { id, kind: 'dm' }, replyRoute: route };
  };
}
