/**
 * Shows an interaction's answer once Slack has been acked: a dialog opens (views.open with the
 * click's trigger_id), an update replaces the clicked message, a notice reaches only the person
 * who clicked (response_url, else chat.postEphemeral in the channel, else a DM from the app).
 */
import type { webApi } from '@slack/bolt';
import type { InteractionAnswer, InteractionInput } from '../../src/core/interactions.js';
import type { Logger } from '../../src/core/ports.js';
import { messageWithActions, outgoing } from './markdown.js';
import { dialogView } from './modals.js';
import type { TokenSource } from './tokens.js';

export type Shown = InteractionAnswer;

export interface AnswerDeps {
  client: webApi.WebClient;
  tokens: TokenSource;
  log: Logger;
}

interface Route {
  responseUrl?: string;
  triggerId?: string;
  surface?: string;
}

export async function answerLater(deps: AnswerDeps, input: InteractionInput, answer: Shown): Promise<void> {
  const route = (input.replyRoute ?? {}) as Route;
  const { token } = await deps.tokens.forWorkspace(input.workspace);
  switch (answer.kind) {
    case 'none':
    case 'invalid':
      return;
    case 'dialog': {
      if (!route.triggerId) throw new Error('a dialog without a trigger_id to open it with');
      const responseUrl = route.responseUrl;
      const view = dialogView(answer.dialog, { ...(input.channel ? { channel: input.channel } : {}), ...(responseUrl ? { responseUrl } : {}) });
      await deps.client.views.open({ token, trigger_id: route.triggerId, view: view as never });
      return;
    }
    case 'update': {
      const content = messageWithActions(answer.text, answer.actions);
      if (route.responseUrl) return respond(route.responseUrl, { replace_original: true, ...content });
      if (input.channel && input.message) {
        await deps.client.chat.update({ token, channel: input.channel.id, ts: input.message.id, ...content });
      }
      return;
    }
    case 'notice': {
      const text = outgoing(answer.text);
      if (route.responseUrl) return respond(route.responseUrl, { response_type: 'ephemeral', replace_original: false, text });
      // From a modal or the Home tab: in the channel it came from, else the app's DM.
      if (input.channel && input.channel.kind !== 'dm') {
        await deps.client.chat.postEphemeral({ token, channel: input.channel.id, user: input.user.id, text });
        return;
      }
      const opened = await deps.client.conversations.open({ token, users: input.user.id });
      if (opened.channel?.id) await deps.client.chat.postMessage({ token, channel: opened.channel.id, text });
      return;
    }
  }
}

/** POSTs to Slack's response_url (valid 30 minutes, five times). */
async function respond(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}
