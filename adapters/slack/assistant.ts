/**
 * Slack's assistant panel and App Home: `assistant_thread_started` (remember the thread's
 * context, offer the role's suggested prompts), `assistant_thread_context_changed`, questions in
 * assistant threads (the context channel becomes the envelope's `about`), the thread's status
 * while the agent works (assistant.threads.setStatus, from the same progress a status message
 * shows elsewhere) and its title once the first answer is in; `app_home_opened` publishes the Home.
 */
import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import type { AssistantPanel } from '../../src/core/assistant.js';
import type { EnvelopeInput } from '../../src/core/envelope.js';
import type { Logger, ReplySink, ReplyTarget } from '../../src/core/ports.js';
import { channelKindOf, eventBodySchema, workspaceOf, type SlackReplyRoute } from './events.js';
import type { TokenSource } from './tokens.js';

const threadEventSchema = z.object({
  assistant_thread: z.object({
    user_id: z.string().min(1),
    channel_id: z.string().min(1),
    thread_ts: z.string().min(1),
    context: z.object({ channel_id: z.string().min(1).nullish() }).partial().default({}),
  }),
});
const homeOpenedSchema = z.object({ user: z.string().min(1), tab: z.string().optional() });

/** A title is a short line: the first question, cut at a word. */
const TITLE_CHARS = 60;

/** The assistant thread a route answers in, and the title its first answer sets. */
export interface AssistantRoute {
  title?: string;
}

type Listener = (args: { body: unknown; event: unknown }) => Promise<void>;

export function assistantListeners(panel: AssistantPanel, client: webApi.WebClient, tokens: TokenSource, log: Logger): Record<'assistant_thread_started' | 'assistant_thread_context_changed' | 'app_home_opened', Listener> {
  const parse = (body: unknown, event: unknown) => {
    const where = workspaceOf(eventBodySchema.parse(body));
    const parsed = threadEventSchema.safeParse(event);
    if (!where || !parsed.success) {
      log.warn({ event: 'slack.unreadable_event' }, 'Slack assistant event without the expected fields ignored');
      return null;
    }
    const t = parsed.data.assistant_thread;
    return { where, user: t.user_id, thread: { channelId: t.channel_id, threadTs: t.thread_ts }, context: t.context.channel_id ?? null };
  };
  return {
    async assistant_thread_started({ body, event }) {
      const e = parse(body, event);
      if (!e) return;
      const prompts = await panel.started(e.where.ref, { id: e.user }, e.thread, e.context);
      if (prompts.length === 0) return;
      const { token } = await tokens.forWorkspace(e.where.ref);
      await client.assistant.threads.setSuggestedPrompts({ token, channel_id: e.thread.channelId, thread_ts: e.thread.threadTs, prompts });
    },
    async assistant_thread_context_changed({ body, event }) {
      const e = parse(body, event);
      if (e) await panel.contextChanged(e.where.ref, e.thread, e.context);
    },
    async app_home_opened({ body, event }) {
      const where = workspaceOf(eventBodySchema.parse(body));
      const parsed = homeOpenedSchema.safeParse(event);
      // The Messages tab opens too; only the Home tab has a view to publish.
      if (!where || !parsed.success || parsed.data.tab !== 'home') return;
      // A Home that could not be shown is shown at the next opening: acked either way, never retried.
      await panel.openedHome(where.ref, { id: parsed.data.user }).catch((err: unknown) => {
        log.warn({ event: 'slack.home_failed', err: (err as Error).message.slice(0, 200) }, 'App Home not published');
      });
    },
  };
}

/**
 * A DM thread message that belongs to an assistant thread: the thread's context channel is what
 * the question is about (a channel or private channel only: someone else's DM is never asked
 * about), and the first question names the thread.
 */
export async function inAssistantThread(panel: AssistantPanel, envelope: EnvelopeInput): Promise<EnvelopeInput> {
  const route = envelope.replyRoute as Partial<SlackReplyRoute> | undefined;
  if (envelope.channel.kind !== 'dm' || !route?.threadTs) return envelope;
  const thread = await panel.question(envelope.workspace, { channelId: envelope.channel.id, threadTs: route.threadTs });
  if (!thread) return envelope;
  const context = thread.contextChannelId;
  const kind = context ? channelKindOf(context) : null;
  const assistant: AssistantRoute = thread.firstQuestion ? { title: titleOf(envelope.text) } : {};
  return {
    ...envelope,
    ...(context && kind !== 'dm' ? { about: { channel: { id: context, kind: kind! } } } : {}),
    replyRoute: { ...route, assistant },
  };
}

function titleOf(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= TITLE_CHARS) return line || 'Question';
  const cut = line.slice(0, TITLE_CHARS);
  return `${cut.slice(0, cut.lastIndexOf(' ') > 20 ? cut.lastIndexOf(' ') : TITLE_CHARS)}…`;
}

/** "Searching history…" → "is searching history…": Slack shows the status after the app's name. */
export function threadStatus(status: string): string {
  return /^[A-Za-z]+ing\b/.test(status) ? `is ${status.charAt(0).toLowerCase()}${status.slice(1)}` : status;
}

const assistantOf = (target: ReplyTarget) => (target.replyRoute as { assistant?: AssistantRoute }).assistant;
const threadOf = (target: ReplyTarget) => (target.replyRoute as Partial<SlackReplyRoute>).threadTs;

/**
 * In an assistant thread, progress is the thread's status (Slack clears it when the answer is
 * posted) rather than a status message, and the first answer sets the title. Elsewhere, the
 * sink as it is. Status and title are best effort: an answer never fails for them.
 */
export function withAssistantThreads(sink: ReplySink, client: webApi.WebClient, tokens: TokenSource, log: Logger): ReplySink {
  const call = async (target: ReplyTarget, what: 'status' | 'title', text: string) => {
    const thread = threadOf(target);
    if (!thread) return;
    try {
      const { token } = await tokens.forWorkspace(target.workspace);
      const where = { token, channel_id: target.channel.id, thread_ts: thread };
      if (what === 'status') await client.assistant.threads.setStatus({ ...where, status: threadStatus(text) });
      else await client.assistant.threads.setTitle({ ...where, title: text });
    } catch (err) {
      log.debug({ event: `slack.assistant_${what}_failed`, err: (err as Error).message.slice(0, 200) }, 'assistant thread not updated');
    }
  };
  const titled = async (target: ReplyTarget) => {
    const title = assistantOf(target)?.title;
    if (title) await call(target, 'title', title);
  };
  return {
    ...sink,
    async progress(target, status, memory) {
      if (!assistantOf(target)) return sink.progress?.(target, status, memory);
      await call(target, 'status', status);
    },
    async post(target, reply, memory) {
      const posted = await sink.post(target, reply, memory);
      if (reply.kind === 'answer' && assistantOf(target)) await titled(target);
      return posted;
    },
    openStream(target, memory, started) {
      const stream = sink.openStream?.(target, memory, started) ?? null;
      if (!stream || !assistantOf(target)) return stream;
      return {
        append: (text) => stream.append(text),
        abort: () => stream.abort(),
        async finish(fullText) {
          const done = await stream.finish(fullText);
          await titled(target);
          return done;
        },
      };
    },
  };
}
