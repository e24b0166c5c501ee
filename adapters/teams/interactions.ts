/**
 * Teams interactions, verified like every activity (index.ts), parsed with zod into the core's
 * `Interaction` and handed to the one InteractionRouter; no feature is special-cased here. Each
 * is answered in its own request with the invoke response Teams expects:
 * - `task/fetch` (a card button, see cards.ts) and `task/submit` (a dialog's form);
 * - `adaptiveCard/action` (Action.Execute: the card is refreshed in place);
 * - `composeExtension/fetchTask` / `composeExtension/submitAction` (a message extension action on
 *   someone's message, "Ask Quorum about this");
 * - a message activity carrying a card's Action.Submit `value` (cards without task/fetch);
 * - `fileConsent/invoke` goes to the hook given (file uploads), else is acknowledged.
 * Retries of one activity (same id) act once (SeenRequests).
 */
import { ActivityTypes, type TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { InteractionAnswer, InteractionInput, InteractionKind, InteractionRouter } from '../../src/core/interactions.js';
import { INTERACTION_FAILED } from '../../src/core/interactions.js';
import { neutralizeText } from '../../src/core/outgoing-text.js';
import type { Logger, SeenRequests } from '../../src/core/ports.js';
import { channelRefOf, idempotencyKeyOf, routeOf, workspaceOf, type TeamsActivity } from './activity.js';
import { ACTION_KEY, ADAPTIVE_CARD, actionsAttachment, taskContinue, taskMessage, textCard, VALUE_KEY } from './cards.js';

export type Outcome = { status: number; body?: unknown };

export interface TeamsInteractionDeps {
  router: InteractionRouter;
  seen: SeenRequests;
  log: Logger;
  /** `fileConsent/invoke` (the user accepted or declined a file Quorum offered): answered by its owner. */
  fileConsent?: (activity: TeamsActivity, context: TurnContext) => Promise<Outcome>;
}

/** Retries come within minutes; a day is plenty. */
const SEEN_TTL_MS = 24 * 60 * 60_000;

const data = z.record(z.string(), z.unknown());
const quorumData = data.refine((d) => typeof d[ACTION_KEY] === 'string', { message: `data without ${ACTION_KEY}` });
const taskSchema = z.object({ data: quorumData }).loose();
const executeSchema = z.object({ action: z.object({ type: z.string().optional(), verb: z.string().optional(), data: data.default({}) }).loose() }).loose();
const messagePayload = z
  .object({
    id: z.string().min(1),
    replyToId: z.string().nullish(),
    body: z.object({ content: z.string().default('') }).loose().optional(),
    from: z.object({ user: z.object({ id: z.string().optional(), aadObjectId: z.string().optional() }).loose().nullish() }).loose().nullish(),
  })
  .loose();
const extensionSchema = z.object({ commandId: z.string().min(1), data: data.optional(), messagePayload: messagePayload.optional() }).loose();

const bad = (error: string): Outcome => ({ status: 400, body: { error } });

/** Whether a message activity is a card's Action.Submit (a `value` object and no typed text). */
export function isCardSubmit(activity: TeamsActivity): boolean {
  const value = (activity as { value?: unknown }).value;
  return activity.type === ActivityTypes.Message && !activity.text?.trim() && typeof value === 'object' && value !== null;
}

/** A form's fields: every string (or number/boolean) in the data but Quorum's own keys and Teams'. */
function fieldsOf(d: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) {
    if (k === ACTION_KEY || k === VALUE_KEY || k === 'msteams') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k.slice(0, 100)] = String(v).slice(0, 40_000);
  }
  return fields;
}

/** HTML of a Teams message body as plain text (the model gets words, not markup). */
function plainText(html: string): string {
  return html.replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]*>/g, '').replace(/&nbsp;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').trim();
}

function base(activity: TeamsActivity, tenantId: string, kind: InteractionKind, actionId: string): InteractionInput {
  return {
    kind,
    idempotencyKey: idempotencyKeyOf(tenantId, activity),
    workspace: workspaceOf(tenantId),
    user: { id: activity.from?.aadObjectId ?? activity.from?.id ?? '', ...(activity.from?.name ? { displayName: activity.from.name.slice(0, 256) } : {}) },
    channel: channelRefOf(activity),
    actionId,
    receivedAt: new Date(),
    replyRoute: routeOf(activity),
  };
}

/** The Interaction an invoke or card submission stands for, or the 400 it gets. */
export function interactionOf(activity: TeamsActivity, tenantId: string): InteractionInput | Outcome {
  const name = (activity as { name?: unknown }).name;
  const value = (activity as { value?: unknown }).value;
  if (activity.type === ActivityTypes.Message) {
    const d = quorumData.safeParse(value);
    if (!d.success) return bad('card submission without a Quorum action');
    const fields = fieldsOf(d.data);
    return { ...base(activity, tenantId, Object.keys(fields).length ? 'submit' : 'action', String(d.data[ACTION_KEY])), value: String(d.data[VALUE_KEY] ?? ''), fields, ...replied(activity) };
  }
  switch (name) {
    case 'task/fetch':
    case 'task/submit': {
      const p = taskSchema.safeParse(value);
      if (!p.success) return bad(`${name} without Quorum data`);
      const kind = name === 'task/fetch' ? 'action' : 'submit';
      return { ...base(activity, tenantId, kind, String(p.data.data[ACTION_KEY])), value: String(p.data.data[VALUE_KEY] ?? ''), fields: fieldsOf(p.data.data), ...replied(activity) };
    }
    case 'adaptiveCard/action': {
      const p = executeSchema.safeParse(value);
      const actionId = p.success ? (typeof p.data.action.data[ACTION_KEY] === 'string' ? String(p.data.action.data[ACTION_KEY]) : p.data.action.verb) : undefined;
      if (!p.success || !actionId) return bad('adaptiveCard/action without a verb');
      return { ...base(activity, tenantId, 'action', actionId), value: String(p.data.action.data[VALUE_KEY] ?? ''), fields: fieldsOf(p.data.action.data), ...replied(activity) };
    }
    case 'composeExtension/fetchTask':
    case 'composeExtension/submitAction': {
      const p = extensionSchema.safeParse(value);
      if (!p.success) return bad(`${name} without a commandId`);
      const m = p.data.messagePayload;
      const message = m ? { id: m.id, ...(m.replyToId ? { threadId: m.replyToId } : {}), text: plainText(m.body?.content ?? '').slice(0, 40_000), ...authorOf(m) } : undefined;
      const submitted = p.data.data ?? {};
      const actionId = name === 'composeExtension/submitAction' && typeof submitted[ACTION_KEY] === 'string' ? String(submitted[ACTION_KEY]) : p.data.commandId;
      const kind = name === 'composeExtension/fetchTask' ? 'message_action' : 'submit';
      return { ...base(activity, tenantId, kind, actionId), value: String(submitted[VALUE_KEY] ?? ''), fields: fieldsOf(submitted), ...(message ? { message } : {}) };
    }
    default:
      return bad('unknown invoke');
  }
}

function authorOf(m: z.infer<typeof messagePayload>): { authorId?: string } {
  const id = m.from?.user?.aadObjectId ?? m.from?.user?.id;
  return id ? { authorId: id } : {};
}

/** The card message a click came from (its replyToId), so that an update can replace it. */
function replied(activity: TeamsActivity): { message?: { id: string } } {
  return activity.replyToId ? { message: { id: activity.replyToId } } : {};
}

/** Handles one invoke or card submission inside its request; the Outcome is the HTTP answer. */
export async function onInteraction(deps: TeamsInteractionDeps, activity: TeamsActivity, tenantId: string, context: TurnContext): Promise<Outcome> {
  const name = (activity as { name?: unknown }).name;
  if (name === 'fileConsent/invoke') return deps.fileConsent ? deps.fileConsent(activity, context) : { status: 200, body: {} };
  const input = interactionOf(activity, tenantId);
  if ('status' in input) return input;
  if (!activity.id) return bad('activity without an id');
  if (!(await deps.seen.firstTime(`teams:${input.idempotencyKey}`, SEEN_TTL_MS))) {
    deps.log.info({ event: 'teams.interaction_repeated' }, 'a Teams interaction already acted on came again: nothing done');
    return { status: 200, body: activity.type === ActivityTypes.Invoke ? {} : undefined };
  }
  let answer: InteractionAnswer;
  try {
    const result = await deps.router.route(input);
    if (result.status === 'invalid') return bad('interaction not valid');
    answer = result.status === 'handled' ? result.answer : { kind: 'none' };
  } catch (err) {
    deps.log.error({ event: 'teams.interaction_failed', err: (err as Error)?.message?.slice(0, 200) }, 'interaction handler failed');
    answer = { kind: 'notice', text: INTERACTION_FAILED };
  }
  return show(deps, activity, name, answer, context);
}

/** The answer, in the form the invoke (or the card submission) wants. */
async function show(deps: TeamsInteractionDeps, activity: TeamsActivity, name: unknown, answer: InteractionAnswer, context: TurnContext): Promise<Outcome> {
  const text = 'text' in answer ? neutralizeText(answer.text) : '';
  if (answer.kind === 'update' && activity.replyToId && name !== 'adaptiveCard/action') {
    // The clicked card message is replaced (best effort: a click still counts if Teams refuses).
    const updated = { type: ActivityTypes.Message, id: activity.replyToId, text, ...(answer.actions?.length ? { attachments: [actionsAttachment(answer.actions)] } : {}) };
    await context.updateActivity(updated).catch((err: Error) => deps.log.warn({ event: 'teams.update_failed', err: err.message.slice(0, 200) }, 'clicked card not updated'));
  }
  if (name === 'adaptiveCard/action') {
    if (answer.kind === 'update') return { status: 200, body: { statusCode: 200, type: ADAPTIVE_CARD, value: textCard(text, answer.actions) } };
    const message = answer.kind === 'invalid' ? Object.values(answer.errors).join(' ') : answer.kind === 'dialog' ? answer.dialog.title : text || 'Done.';
    return { status: 200, body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: message } };
  }
  if (activity.type === ActivityTypes.Message) {
    // A plain Action.Submit has no answer of its own: a notice goes into the conversation (Teams has no ephemeral messages).
    if (answer.kind === 'notice') await context.sendActivity({ type: ActivityTypes.Message, text });
    return { status: 200 };
  }
  switch (answer.kind) {
    case 'dialog':
      return { status: 200, body: taskContinue(answer.dialog) };
    case 'invalid':
      return { status: 200, body: taskMessage(Object.values(answer.errors).join(' ')) };
    case 'notice':
    case 'update':
      return { status: 200, body: taskMessage(text) };
    case 'none':
      // An empty answer closes the task module.
      return { status: 200, body: {} };
  }
}
