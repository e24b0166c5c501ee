/**
 * Slack's interactivity at the same verified `/slack/events` endpoint: button clicks
 * (`block_actions`), modal submissions (`view_submission`), message shortcuts (`message_action`)
 * and global shortcuts (`shortcut`). Each payload is parsed with zod into the core's
 * `Interaction` and handed to the one InteractionRouter; no feature is special-cased here. The
 * answer is shown within Slack's 3 s ack; a slower handler is acked first and shown afterwards
 * (response_url, chat.postEphemeral or a DM). A replayed signed request never reaches a handler
 * (app-guard.ts).
 */
import type { App, webApi } from '@slack/bolt';
import { z } from 'zod';
import { INTERACTION_FAILED, type InteractionInput, type InteractionRouter } from '../../src/core/interactions.js';
import type { Logger } from '../../src/core/ports.js';
import { channelKindOf, type SlackReplyRoute } from './events.js';
import { dialogView, fieldsOf, metadataOf, type DialogMetadata } from './modals.js';
import { answerLater, type Shown } from './interaction-replies.js';
import type { TokenSource } from './tokens.js';

/** Leaves room for the network inside Slack's 3 seconds. */
const ACK_BUDGET_MS = 2_500;

/** A signed payload that is not what Slack sends: answered 400 by the receiver, nothing done. */
export class MalformedInteraction extends Error {
  override readonly name = 'MalformedInteraction';
}

const team = z.object({ id: z.string().min(1), enterprise_id: z.string().optional() }).loose();
const user = z.object({ id: z.string().min(1), team_id: z.string().optional(), name: z.string().optional(), username: z.string().optional() }).loose();
const common = {
  team: team.nullish(),
  user,
  enterprise: z.object({ id: z.string().min(1) }).loose().nullish(),
  is_enterprise_install: z.boolean().optional(),
  trigger_id: z.string().min(1).optional(),
};
const message = z.object({ ts: z.string().min(1), thread_ts: z.string().optional(), text: z.string().default(''), user: z.string().optional() }).loose();

export const blockActionsSchema = z
  .object({
    type: z.literal('block_actions'),
    ...common,
    actions: z.array(z.object({ action_id: z.string().min(1), value: z.string().max(4_000).optional() }).loose()).min(1),
    channel: z.object({ id: z.string().min(1), name: z.string().optional() }).loose().optional(),
    container: z.object({ type: z.string(), message_ts: z.string().optional(), channel_id: z.string().optional() }).loose().optional(),
    message: message.optional(),
    response_url: z.string().url().optional(),
    view: z.object({ id: z.string(), type: z.string() }).loose().optional(),
  })
  .loose();

export const viewSubmissionSchema = z
  .object({
    type: z.literal('view_submission'),
    ...common,
    view: z
      .object({
        id: z.string().min(1),
        callback_id: z.string(),
        private_metadata: z.string().default(''),
        state: z.object({ values: z.record(z.string(), z.record(z.string(), z.object({ type: z.string() }).loose())) }).loose(),
      })
      .loose(),
  })
  .loose();

export const messageActionSchema = z
  .object({
    type: z.literal('message_action'),
    ...common,
    callback_id: z.string().min(1),
    channel: z.object({ id: z.string().min(1), name: z.string().optional() }).loose(),
    message,
    response_url: z.string().url().optional(),
  })
  .loose();

export const shortcutSchema = z.object({ type: z.literal('shortcut'), ...common, callback_id: z.string().min(1) }).loose();

const schemaByType: Record<string, z.ZodType> = {
  block_actions: blockActionsSchema,
  view_submission: viewSubmissionSchema,
  message_action: messageActionSchema,
  shortcut: shortcutSchema,
};

/** Whether a verified form body is an interaction payload of a kind Quorum handles that does not parse. */
export function isMalformedInteractionBody(raw: string): boolean {
  const payload = new URLSearchParams(raw).get('payload');
  if (payload === null) return false;
  try {
    const body = JSON.parse(payload) as Body;
    const schema = schemaByType[String(body?.type)];
    return schema !== undefined && !schema.safeParse(body).success;
  } catch {
    return true;
  }
}

export interface InteractionDeps {
  router: InteractionRouter;
  client: webApi.WebClient;
  tokens: TokenSource;
  log: Logger;
  budgetMs?: number;
}

type Body = Record<string, unknown>;
type Ack = (response?: unknown) => Promise<void>;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new MalformedInteraction(`not a Slack ${String((body as Body)?.type ?? 'interaction').slice(0, 40)} payload`);
  return parsed.data;
}

/** Workspace, user, the reply route and the idempotency key every kind shares. */
function basics(p: z.infer<z.ZodObject<typeof common>>, signature: string | undefined) {
  const enterpriseId = p.enterprise?.id ?? p.team?.enterprise_id ?? undefined;
  const externalId = p.team?.id ?? enterpriseId;
  if (!externalId) throw new MalformedInteraction('a Slack interaction without a workspace');
  const route: SlackReplyRoute = { teamId: p.team?.id ?? null, enterpriseId: enterpriseId ?? null, isEnterpriseInstall: p.is_enterprise_install === true };
  return {
    idempotencyKey: p.trigger_id ?? signature ?? '',
    workspace: { platform: 'slack' as const, externalId, ...(enterpriseId ? { enterpriseId } : {}) },
    user: { id: p.user.id, ...(p.user.team_id && p.user.team_id !== p.team?.id ? { homeWorkspaceId: p.user.team_id } : {}) },
    receivedAt: new Date(),
    route,
  };
}

export function blockActionInteraction(body: unknown, signature?: string): InteractionInput {
  const p = parse(blockActionsSchema, body);
  const { route, ...base } = basics(p, signature);
  const action = p.actions[0]!;
  const channelId = p.channel?.id ?? p.container?.channel_id;
  const where = p.view ? { surface: p.view.type, viewId: p.view.id } : {};
  return {
    kind: 'action',
    ...base,
    ...(channelId ? { channel: { id: channelId, kind: channelKindOf(channelId) } } : {}),
    actionId: action.action_id,
    value: action.value ?? '',
    ...(p.message ? { message: { id: p.message.ts, threadId: p.message.thread_ts, text: p.message.text.slice(0, 40_000), authorId: p.message.user } } : {}),
    replyRoute: { ...route, ...where, ...(p.response_url ? { responseUrl: p.response_url } : {}), ...(p.trigger_id ? { triggerId: p.trigger_id } : {}) },
  };
}

export function viewSubmissionInteraction(body: unknown, signature?: string): InteractionInput {
  const p = parse(viewSubmissionSchema, body);
  const { route, ...base } = basics(p, signature);
  const meta: DialogMetadata = metadataOf(p.view.private_metadata, p.view.callback_id);
  return {
    kind: 'submit',
    ...base,
    ...(meta.channel ? { channel: meta.channel } : {}),
    actionId: meta.actionId,
    value: meta.value,
    fields: fieldsOf(p.view.state.values),
    replyRoute: { ...route, surface: 'modal', viewId: p.view.id, ...(meta.responseUrl ? { responseUrl: meta.responseUrl } : {}) },
  };
}

export function messageActionInteraction(body: unknown, signature?: string): InteractionInput {
  const p = parse(messageActionSchema, body);
  const { route, ...base } = basics(p, signature);
  return {
    kind: 'message_action',
    ...base,
    channel: { id: p.channel.id, kind: channelKindOf(p.channel.id), ...(p.channel.name ? { name: p.channel.name } : {}) },
    actionId: p.callback_id,
    message: { id: p.message.ts, threadId: p.message.thread_ts, text: p.message.text.slice(0, 40_000), authorId: p.message.user },
    replyRoute: { ...route, ...(p.response_url ? { responseUrl: p.response_url } : {}), ...(p.trigger_id ? { triggerId: p.trigger_id } : {}) },
  };
}

export function shortcutInteraction(body: unknown, signature?: string): InteractionInput {
  const p = parse(shortcutSchema, body);
  const { route, ...base } = basics(p, signature);
  return { kind: 'message_action', ...base, actionId: p.callback_id, replyRoute: { ...route, ...(p.trigger_id ? { triggerId: p.trigger_id } : {}) } };
}

export function registerInteractions(app: App, deps: InteractionDeps): void {
  const run = (map: (body: unknown, signature?: string) => InteractionInput) =>
    async (args: { body: unknown; ack: Ack; context: { requestSignature?: string } }) => {
      const input = map(args.body, args.context.requestSignature);
      await dispatch(deps, input, args.ack);
    };
  app.action(/.*/, run(blockActionInteraction) as never);
  app.view({ type: 'view_submission', callback_id: /.*/ }, run(viewSubmissionInteraction) as never);
  // Closing a modal needs nothing done (Slack sends view_closed only when notify_on_close is set).
  app.view({ type: 'view_closed', callback_id: /.*/ }, (async ({ ack }: { ack: Ack }) => ack()) as never);
  app.shortcut({ type: 'message_action', callback_id: /.*/ }, run(messageActionInteraction) as never);
  app.shortcut({ type: 'shortcut', callback_id: /.*/ }, run(shortcutInteraction) as never);
}

/** Routes one interaction and shows its answer: inside the ack when it is quick, afterwards when not. */
async function dispatch(deps: InteractionDeps, input: InteractionInput, ack: Ack): Promise<void> {
  const { log } = deps;
  const routed = deps.router.route(input).then(
    (result): Shown => {
      if (result.status === 'invalid') throw new MalformedInteraction(`interaction not valid: ${result.problems.join(', ').slice(0, 200)}`);
      if (result.status === 'unknown') return { kind: 'none' };
      return result.answer;
    },
    (err: unknown): Shown => {
      if (err instanceof MalformedInteraction) throw err;
      log.error({ event: 'slack.interaction_failed', err: (err as Error)?.message?.slice(0, 200) }, 'interaction handler failed');
      return { kind: 'notice', text: INTERACTION_FAILED };
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), deps.budgetMs ?? ACK_BUDGET_MS);
  });
  const answer = await Promise.race([routed, late]).finally(() => clearTimeout(timer));
  if (answer === null) {
    // Acked now; the answer is shown when the handler is done (a form's errors can no longer be).
    await ack();
    void routed.then((a) => answerLater(deps, input, a), () => undefined).catch((err: unknown) => warn(log, err));
    return;
  }
  if (input.kind === 'submit') {
    if (answer.kind === 'invalid') return ack({ response_action: 'errors', errors: answer.errors });
    // A dialog answered with a dialog: the modal is replaced in place.
    if (answer.kind === 'dialog') return ack({ response_action: 'update', view: dialogView(answer.dialog, metaFor(input)) });
  }
  await ack();
  await answerLater(deps, input, answer).catch((err: unknown) => warn(log, err));
}

/** What a modal opened from this interaction carries back on submit: where it came from. */
export function metaFor(input: InteractionInput): Omit<DialogMetadata, 'actionId' | 'value'> {
  const responseUrl = (input.replyRoute as { responseUrl?: string } | undefined)?.responseUrl;
  return { ...(input.channel ? { channel: input.channel } : {}), ...(responseUrl ? { responseUrl } : {}) };
}

function warn(log: Logger, err: unknown): void {
  log.warn({ event: 'slack.interaction_answer_failed', err: (err as Error)?.message?.slice(0, 200) }, 'the answer to an interaction could not be shown');
}

