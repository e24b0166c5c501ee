/**
 * A person's Quorum settings as an Adaptive Card in their 1:1 chat with the bot: the core's
 * HomeView (src/core/home.ts) drawn as TextBlocks, and for admins each settings form inline
 * (Action.ShowCard) with an Action.Submit whose data names the core's action (`quorumAction`,
 * `value`); Teams adds the inputs by id. After a change the core shows the view again with the
 * card's activity id, and the card is updated in place.
 */
import { ActivityTypes, CardFactory, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import { neutralizeText } from '../../src/core/outgoing-text.js';
import type { Dialog, DialogField } from '../../src/core/interactions.js';
import type { HomeSurface, HomeView, Logger } from '../../src/core/ports.js';
import { keys, type TeamsRuntime } from './runtime.js';

const clean = (text: string) => neutralizeText(text);

function input(field: DialogField): Record<string, unknown> {
  const common = { id: field.name, label: clean(field.label), isRequired: !field.optional, ...(field.initial ? { value: field.initial } : {}) };
  if (field.kind === 'select') {
    return { type: 'Input.ChoiceSet', ...common, choices: (field.options ?? []).map((o) => ({ title: clean(o.label), value: o.value })) };
  }
  return { type: 'Input.Text', ...common, isMultiline: field.kind === 'multiline', ...(field.maxLength ? { maxLength: field.maxLength } : {}) };
}

/** One form as a card shown under its button: the fields, and Save. */
function formCard(form: Dialog): Record<string, unknown> {
  return {
    type: 'AdaptiveCard',
    body: [...(form.intro ? [{ type: 'TextBlock', text: clean(form.intro), wrap: true, isSubtle: true }] : []), ...form.fields.map(input)],
    actions: [{ type: 'Action.Submit', title: clean(form.submitLabel), data: { quorumAction: form.actionId, value: form.value } }],
  };
}

/** The card: version 1.5 (Teams desktop and mobile). */
export function homeCard(view: HomeView): Record<string, unknown> {
  const body: unknown[] = [];
  for (const section of view.sections) {
    body.push({ type: 'TextBlock', text: clean(section.title), weight: 'Bolder', wrap: true, separator: section.id === 'settings', spacing: 'Medium' });
    for (const line of section.lines) body.push({ type: 'TextBlock', text: clean(line), wrap: true, spacing: 'Small' });
  }
  const labels = new Map(view.sections.flatMap((s) => s.actions).map((a) => [a.actionId.slice(a.actionId.indexOf(':') + 1), a.label]));
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    actions: view.forms.map((form) => ({ type: 'Action.ShowCard', title: clean(labels.get(form.value) ?? form.title), card: formCard(form) })),
  };
}

/** Shows the card in the person's 1:1 chat with the bot (updated in place when `place.messageId` names it). */
export function createHomeCards(runtime: TeamsRuntime, log: Logger): HomeSurface {
  return {
    where: 'on the card in our 1:1 chat',
    async show(workspace, userId, view, place) {
      const personal = (await runtime.refs.load(workspace, keys.personal(userId)))?.conversationKey;
      const chat = typeof personal === 'string' ? await runtime.loadConversation(workspace, personal) : null;
      if (!chat || chat.kind !== 'personal') {
        log.info({ event: 'teams.home_skipped', tenant: workspace.externalId }, 'no 1:1 chat with this user: settings card not shown');
        return false;
      }
      const activity: Partial<Activity> = { type: ActivityTypes.Message, attachments: [CardFactory.adaptiveCard(homeCard(view))] };
      await runtime.inConversation(chat.reference, async (context) => {
        if (place?.messageId) {
          await context.updateActivity({ ...activity, id: place.messageId });
          return;
        }
        // A new message in the chat: context.sendActivity would reply to the proactive turn's made-up activity id.
        const applied = TurnContext.applyConversationReference(activity, chat.reference as Partial<ConversationReference>);
        await context.adapter.sendActivities(context, [applied]);
      });
      return true;
    },
  };
}
