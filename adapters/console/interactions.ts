/**
 * The console's clicks: a demo user's click on a reply's button (or a dialog's submission) becomes
 * an `Interaction` for the core's router, as Slack's signed block_actions do. The console user is
 * the demo user, like console messages; a click on a reply that user cannot see is refused. The
 * handler's answer is applied here: `update` replaces the reply, `notice` is a private reply to
 * the clicker, `dialog` and `invalid` go back to the page, which shows the form.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { INTERACTION_FAILED, actionIdSchema, type InteractionAnswer, type InteractionInput, type InteractionRouter } from '../../src/core/interactions.js';
import { HttpError, readJson, sendJson, type Route } from '../../src/http/server.js';
import { dmChannelId, type Demo } from './demo.js';
import type { Entry, Transcript } from './transcript.js';

const clickSchema = z.object({
  user: z.string().min(1).max(100),
  /** The reply whose button was clicked (or whose button opened the dialog). */
  entryId: z.string().min(1).max(100),
  kind: z.enum(['action', 'submit']).default('action'),
  actionId: actionIdSchema,
  value: z.string().max(4_000).default(''),
  fields: z.record(z.string().max(100), z.string().max(40_000)).default({}),
  /** Lets the page retry a click safely. */
  clickId: z.string().min(1).max(100).optional(),
});

export function interactionRoute(options: { demo: Demo; transcript: Transcript; router: InteractionRouter }): Route {
  const { demo, transcript, router } = options;
  const users = new Map(demo.users.map((u) => [u.id, u]));
  return {
    method: 'POST',
    path: '/console/api/interactions',
    handler: async (req, res) => {
      const parsed = clickSchema.safeParse(await readJson(req, 64 * 1024));
      if (!parsed.success) throw new HttpError(400, `invalid click: ${parsed.error.issues.map((i) => i.path.join('.') || i.code).join(', ')}`);
      const click = parsed.data;
      const user = users.get(click.user);
      if (!user) throw new HttpError(400, `unknown demo user "${click.user.slice(0, 40)}"`);
      // The place the entry is in, as this user would view it: their DM, or its channel.
      const where = transcript.all().find((e) => e.id === click.entryId)?.channel ?? '';
      const isDm = where === dmChannelId(user.id);
      const entry = transcript.seenBy(click.entryId, { user: user.id, place: isDm ? 'dm' : where });
      if (!entry) throw new HttpError(404, 'no such message in your view');
      const interaction: InteractionInput = {
        kind: click.kind,
        idempotencyKey: click.clickId ? `${user.id}:${click.clickId}` : randomUUID(),
        workspace: { platform: 'console', externalId: demo.workspace.id },
        user: { id: user.id, displayName: user.name },
        channel: { id: entry.channel, kind: isDm ? 'dm' : 'channel' },
        actionId: click.actionId,
        value: click.value,
        fields: click.fields,
        message: { id: entry.id, ...(entry.threadId ? { threadId: entry.threadId } : {}), text: entry.text },
        receivedAt: new Date(),
      };
      let routed: Awaited<ReturnType<InteractionRouter['route']>>;
      try {
        routed = await router.route(interaction);
      } catch {
        throw new HttpError(503, INTERACTION_FAILED);
      }
      if (routed.status === 'invalid') throw new HttpError(400, `invalid click: ${routed.problems.join('; ')}`);
      if (routed.status === 'unknown') throw new HttpError(400, 'nobody handles that button');
      applyAnswer(transcript, entry, user.id, routed.answer);
      sendJson(res, 200, { answer: routed.answer });
    },
  };
}

function applyAnswer(transcript: Transcript, entry: Entry, clicker: string, answer: InteractionAnswer): void {
  if (answer.kind === 'update') transcript.update(entry, { text: answer.text, actions: answer.actions ?? null });
  if (answer.kind === 'notice') {
    transcript.add({
      key: `notice:${randomUUID()}`,
      from: 'quorum',
      user: clicker,
      channel: entry.channel,
      threadId: entry.threadId,
      private: true,
      kind: 'notice',
      state: 'done',
      text: answer.text,
    });
  }
}
