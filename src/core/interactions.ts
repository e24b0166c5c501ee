/**
 * Clicks, dialog submissions and message actions, from every platform, in one shape. An adapter
 * verifies the platform's request (Slack signature, Teams token), parses it with zod into an
 * `Interaction`, and hands it to the core's `InteractionRouter`, which finds the one handler that
 * owns the action id's prefix. The adapter then shows the handler's `InteractionAnswer` within
 * the platform's time limit (Slack: the 3 s ack; Teams: the invoke response).
 *
 * Action ids are `<prefix>:<verb>` (`confirm:yes`, `feedback:down`, `settings:open`): the prefix
 * names the feature that owns them, the verb what was chosen. What a feature needs to find its
 * state again (a confirmation id, a turn id) travels in `value`, never trusted beyond a lookup:
 * identity comes from the verified request only.
 *
 * Idempotency: a retried or replayed request is dropped by the adapters (SeenRequests on the
 * idempotency key); a double click is two different requests, so a handler whose action changes
 * something makes the change once in its own store (a state transition, a unique row) and answers
 * the second click with why nothing happened.
 */
import { z } from 'zod';
import { channelRefSchema, userRefSchema, workspaceRefSchema } from './envelope.js';
import type { Logger } from './ports.js';

const id = z.string().min(1).max(256);

/** action: a button on a message Quorum posted; submit: a dialog, modal or card form; message_action: "Ask Quorum about this" on someone's message; opened: a surface was opened (Slack App Home, Teams 1:1 with no prior chat). */
export const interactionKindSchema = z.enum(['action', 'submit', 'message_action', 'opened']);
export type InteractionKind = z.infer<typeof interactionKindSchema>;

export const actionIdSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,39}:[A-Za-z0-9_.-]{1,80}$/, 'action id is <prefix>:<verb>');

export const interactionSchema = z.object({
  kind: interactionKindSchema,
  /** The platform's delivery id (Slack: the request signature; Teams: the activity id): retries share it. */
  idempotencyKey: id,
  workspace: workspaceRefSchema,
  user: userRefSchema,
  /** Where it happened: the clicked message's conversation, the chosen message's, or the user's DM. Absent on Slack's Home tab. */
  channel: channelRefSchema.optional(),
  actionId: actionIdSchema,
  /** Opaque data the core put on the button or dialog (a confirmation id, a message id). */
  value: z.string().max(4_000).default(''),
  /** A form's fields by name (modal inputs, Adaptive Card inputs); one value each, as text. */
  fields: z.record(z.string().max(100), z.string().max(40_000)).default({}),
  /** The message it is about: the message the button is on (action), or the chosen message (message_action). */
  message: z
    .object({
      id,
      threadId: id.optional(),
      text: z.string().max(40_000).default(''),
      authorId: id.optional(),
    })
    .optional(),
  receivedAt: z.coerce.date(),
  /** What the adapter needs to answer later (response_url, trigger_id, service URL); opaque to the core. */
  replyRoute: z.record(z.string(), z.unknown()).default({}),
});
export type Interaction = z.infer<typeof interactionSchema>;
export type InteractionInput = z.input<typeof interactionSchema>;

/** A button the core puts under a message (Slack Block Kit button, Teams Adaptive Card Action.Submit, a console button). */
export const replyActionSchema = z.object({
  actionId: actionIdSchema,
  label: z.string().min(1).max(75),
  value: z.string().max(2_000).default(''),
  style: z.enum(['primary', 'danger']).optional(),
  /** A link button: the platform opens this address in the browser (Slack button url, Teams Action.OpenUrl, a console link). */
  url: z
    .url({ protocol: /^https?$/ })
    .max(3_000)
    .optional(),
});
export type ReplyAction = z.infer<typeof replyActionSchema>;
export type ReplyActionInput = z.input<typeof replyActionSchema>;

/** One input of a dialog (Slack modal input block, Teams Adaptive Card input in a task module). */
export const dialogFieldSchema = z.object({
  name: z.string().min(1).max(100),
  label: z.string().min(1).max(150),
  kind: z.enum(['text', 'multiline', 'select']).default('text'),
  options: z.array(z.object({ value: z.string().min(1).max(150), label: z.string().min(1).max(75) })).max(100).optional(),
  initial: z.string().max(3_000).optional(),
  optional: z.boolean().default(false),
  maxLength: z.number().int().positive().max(40_000).optional(),
});
export type DialogField = z.infer<typeof dialogFieldSchema>;

/** A small form: its submission comes back as a `submit` interaction with `actionId` and `value`. */
export const dialogSchema = z.object({
  actionId: actionIdSchema,
  title: z.string().min(1).max(24),
  submitLabel: z.string().min(1).max(24).default('Submit'),
  /** Shown above the fields (plain text; the adapter escapes it). */
  intro: z.string().max(3_000).optional(),
  fields: z.array(dialogFieldSchema).max(20),
  value: z.string().max(3_000).default(''),
});
export type Dialog = z.infer<typeof dialogSchema>;
export type DialogInput = z.input<typeof dialogSchema>;

/**
 * What the person who clicked sees:
 * - none: nothing more (the click's effect shows elsewhere, e.g. a resumed turn posts its answer);
 * - notice: a short message only they see (Slack ephemeral, Teams invoke message / 1:1);
 * - update: the clicked message is replaced in place (its buttons gone unless given again);
 * - dialog: a form opens (Slack modal via trigger_id, Teams task module);
 * - invalid: a submitted form is shown again with an error per field (Slack response_action errors).
 */
export type InteractionAnswer =
  | { kind: 'none' }
  | { kind: 'notice'; text: string }
  | { kind: 'update'; text: string; actions?: ReplyAction[] }
  | { kind: 'dialog'; dialog: Dialog }
  | { kind: 'invalid'; errors: Record<string, string> };

export interface InteractionHandler {
  /** The action-id prefix this handler owns; one handler per prefix. */
  prefix: string;
  handle(interaction: Interaction): Promise<InteractionAnswer>;
}

export type RouteResult =
  | { status: 'handled'; interaction: Interaction; answer: InteractionAnswer }
  | { status: 'invalid'; problems: string[] }
  | { status: 'unknown'; actionId: string };

export interface InteractionRouter {
  /** Validates and dispatches one interaction. Throws only when the handler failed (the adapter then answers with a generic error). */
  route(input: unknown): Promise<RouteResult>;
  /** The prefixes some handler owns (adapters may ignore foreign action ids without a round trip). */
  prefixes(): string[];
}

export const prefixOf = (actionId: string): string => actionId.slice(0, actionId.indexOf(':'));

export function createInteractionRouter(handlers: readonly InteractionHandler[], log: Logger): InteractionRouter {
  const byPrefix = new Map<string, InteractionHandler>();
  for (const h of handlers) {
    if (byPrefix.has(h.prefix)) throw new Error(`two interaction handlers own the prefix "${h.prefix}"`);
    byPrefix.set(h.prefix, h);
  }
  return {
    async route(input) {
      const parsed = interactionSchema.safeParse(input);
      if (!parsed.success) {
        return { status: 'invalid', problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'interaction'}: ${i.code}`) };
      }
      const interaction = parsed.data;
      const handler = byPrefix.get(prefixOf(interaction.actionId));
      if (!handler) {
        log.warn({ event: 'interaction.unknown_action', prefix: prefixOf(interaction.actionId).slice(0, 40) }, 'an interaction nobody handles was ignored');
        return { status: 'unknown', actionId: interaction.actionId };
      }
      const answer = await handler.handle(interaction);
      log.info({ event: 'interaction.handled', prefix: handler.prefix, kind: interaction.kind, answer: answer.kind }, 'interaction handled');
      return { status: 'handled', interaction, answer };
    },
    prefixes: () => [...byPrefix.keys()],
  };
}

/** The text a person sees when their click could not be acted on at all (the handler failed). */
export const INTERACTION_FAILED = 'Sorry, that could not be done right now. Please try again in a minute.';
