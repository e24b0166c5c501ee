/**
 * The agent's built-in tools. Each runs as the requester: it declares its name (the permission
 * it needs, checked by toolAllowed at call time), validates its input with zod, reads only
 * through scoped store functions, and passes what it found through the audience rule before
 * it can reach a prompt whose answer the channel will read.
 */
import { z } from 'zod';
import type { ChannelKind, Envelope } from '../envelope.js';
import type { Scope } from '../identity.js';
import { isQuorumError } from '../errors.js';
import type { AgentStore, ConversationHistory, Logger, PlatformMessage, TurnStore, WorkspaceSettings } from '../ports.js';
import { audienceMaySee, type Audience, type Visibility } from '../prompt.js';
import { mapBounded } from './bounded.js';
import type { ToolName } from './permissions.js';
import { limitsLine, type LimitDefaults } from '../commands/format.js';
import { knowledgeLines, type KnowledgeSearch } from '../knowledge/retrieval.js';

export interface ToolContext {
  scope: Scope;
  principal: { id: string; role: string };
  envelope: Envelope;
  conversationId: string;
  audience: Audience;
  store: AgentStore;
  turns: TurnStore;
  settings: WorkspaceSettings;
  /** The service's limits where the workspace set none (shown by workspace_status). */
  limitDefaults?: LimitDefaults | undefined;
  /** Whether the requester is a member of a channel, as the platform says; false when unknown. */
  isMember(channelExternalId: string, kind: ChannelKind): Promise<boolean>;
  /** The platform's own history (summarize_thread); absent where it cannot be read. */
  history?: ConversationHistory;
  /** The knowledge index (messages and files of the channels Quorum is in); absent where it is not kept. */
  knowledge?: KnowledgeSearch | undefined;
  log: Logger;
}

export interface AgentTool<I = unknown> {
  name: ToolName;
  description: string;
  inputSchema: z.ZodType<I>;
  run(ctx: ToolContext, input: I): Promise<string>;
}

const MAX_ITEMS = 10;
/** How many channels a DM search asks the platform about (each is a membership lookup). */
const MAX_CANDIDATE_CHANNELS = 50;
const MEMBERSHIP_PARALLEL = 5;

function line(at: Date, where: string, role: string, content: string): string {
  const text = content.length > 400 ? `${content.slice(0, 400)}…` : content;
  return `- [${at.toISOString().slice(0, 16)} ${where}] ${role}: ${text}`;
}

/**
 * The channels this audience may read: in a channel or group the whole audience reads the answer,
 * so only this channel; in a DM, the channels the requester is a member of (asked of the platform,
 * a few at a time for its rate limits).
 */
async function readableChannels(ctx: ToolContext): Promise<string[]> {
  const here = ctx.envelope.channel;
  if (here.kind !== 'dm') return [here.id];
  const [stored, indexed] = await Promise.all([
    ctx.store.channelsWithHistory(ctx.scope, MAX_CANDIDATE_CHANNELS),
    ctx.knowledge?.channels(ctx.scope, MAX_CANDIDATE_CHANNELS) ?? [],
  ]);
  const candidates = [...new Map([...indexed, ...stored].map((c) => [c.externalId, c])).values()].slice(0, MAX_CANDIDATE_CHANNELS);
  const checked = await mapBounded(candidates, MEMBERSHIP_PARALLEL, async (c) => ((await ctx.isMember(c.externalId, c.kind)) ? c.externalId : null));
  return checked.filter((c): c is string => c !== null);
}

const searchHistory: AgentTool<{ query: string; channel?: string | undefined; sinceDays?: number | undefined }> = {
  name: 'search_history',
  description:
    'Search what people wrote and shared (messages and files of the channels you may read, and earlier conversations). Optional channel id and time window. Cite the source links of what you use.',
  inputSchema: z.object({
    query: z.string().min(1).max(200),
    channel: z.string().max(100).optional(),
    sinceDays: z.number().int().min(1).max(365).optional(),
  }),
  async run(ctx, input) {
    const here = ctx.envelope.channel;
    let channels = await readableChannels(ctx);
    if (input.channel) channels = channels.filter((c) => c === input.channel);
    const allowed = new Set(channels);
    const ownDms = here.kind === 'dm' && !input.channel;
    const since = input.sinceDays ? { since: new Date(Date.now() - input.sinceDays * 86_400_000) } : {};
    const [found, knowledge] = await Promise.all([
      ctx.store.searchMessages(ctx.scope, { text: input.query, channelExternalIds: channels, dmOwnerPrincipalId: ownDms ? ctx.principal.id : null, ...since, limit: MAX_ITEMS }),
      // Membership and the audience rule are parameters of the query: nothing else is read.
      ctx.knowledge?.search(ctx.scope, { text: input.query, channelExternalIds: channels, dmOwnerUserId: ownDms ? ctx.envelope.user.id : null, ...since, limit: MAX_ITEMS }) ?? [],
    ]);
    // The store query is already narrowed; the audience rule is applied again as the last word.
    const visible = found.filter((m) => {
      const visibility: Visibility =
        m.conversationKind === 'dm'
          ? { kind: 'dm', ownerPrincipalId: m.ownerPrincipalId ?? '' }
          : { kind: m.conversationKind, channelExternalId: m.channelExternalId };
      return audienceMaySee(ctx.audience, visibility, (id) => allowed.has(id));
    });
    if (visible.length === 0 && knowledge.length === 0) return `No messages found for "${input.query}".`;
    const lines = [
      ...knowledgeLines(knowledge),
      ...visible.map((m) => line(m.createdAt, m.conversationKind === 'dm' ? 'your DM' : m.channelExternalId, m.role, m.content)),
    ];
    return lines.join('\n');
  },
};

/** How many messages summarize_thread reads, and how much of their text may reach the model. */
const SUMMARY_MESSAGES = 50;
const SUMMARY_CHARS = 12_000;

/** The newest lines that fit in `maxChars`, oldest first, saying how many older ones were left out. */
function boundedLines(lines: string[], maxChars: number): string {
  const kept: string[] = [];
  let size = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    size += lines[i]!.length + 1;
    if (size > maxChars) break;
    kept.unshift(lines[i]!);
  }
  const dropped = lines.length - kept.length;
  return [...(dropped ? [`(${dropped} earlier messages left out)`] : []), ...kept].join('\n');
}

function platformLines(messages: PlatformMessage[], where: string): string[] {
  // A stable label from the platform id: no extra lookups, and a name never has to be trusted.
  return messages.map((m) => line(m.at, where, `<@${m.authorId}>${m.authorIsBot ? ' (bot)' : ''}`, m.text));
}

/**
 * Reads from the platform when it has a history port; `messages: null` when it has none or failed:
 * the caller falls back to stored messages, with the reason in `note`. Logs never hold the text.
 */
async function readPlatform(
  ctx: ToolContext,
  ask: (history: ConversationHistory) => Promise<PlatformMessage[]>,
): Promise<{ messages: PlatformMessage[] } | { messages: null; note: string }> {
  const platform = ctx.envelope.workspace.platform;
  if (!ctx.history) return { messages: null, note: `${platform} history is not available to Quorum` };
  try {
    return { messages: await ask(ctx.history) };
  } catch (err) {
    ctx.log.warn(
      { event: 'history.unavailable', platform, code: isQuorumError(err) ? err.code : 'unexpected', err: (err as Error).message.slice(0, 200) },
      'platform history not read; stored messages used',
    );
    return { messages: null, note: `${platform} history could not be read right now` };
  }
}

/** The platform's messages when it answered; otherwise the stored ones, saying why. Bounded either way. */
async function summaryOf(
  read: Awaited<ReturnType<typeof readPlatform>>,
  where: string,
  stored: () => Promise<string[]>,
  empty: string,
): Promise<string> {
  if (read.messages) return read.messages.length ? boundedLines(platformLines(read.messages, where), SUMMARY_CHARS) : empty;
  const note = `(Only the messages stored by Quorum are shown: ${read.note}.)`;
  const lines = await stored();
  return lines.length ? `${note}\n${boundedLines(lines, SUMMARY_CHARS)}` : `${empty} ${note}`;
}

const summarizeThread: AgentTool<{ focus?: string | undefined; channel?: string | undefined }> = {
  name: 'summarize_thread',
  description:
    'Read the current thread (or, in a DM, its recent messages) to summarize it; or, from a DM, the recent messages of a channel id you are in.',
  inputSchema: z.object({ focus: z.string().max(200).optional(), channel: z.string().max(100).optional() }),
  async run(ctx, input) {
    const { workspace, channel: here } = ctx.envelope;
    if (input.channel && input.channel !== here.id) {
      // Another channel's messages may reach only a DM audience, and only from a channel the requester is in.
      if (here.kind !== 'dm') return 'Only this conversation can be summarized here; ask in a direct message for other channels.';
      if (!(await ctx.isMember(input.channel, 'channel'))) return 'That channel is not available to you.';
      const channel = input.channel;
      // The audience rule is the last word on whatever is read, from the platform or the store.
      const reaches = (kind: ChannelKind, channelExternalId: string) =>
        audienceMaySee(ctx.audience, { kind: kind === 'group' ? 'group' : 'channel', channelExternalId }, (id) => id === channel);
      if (!reaches('channel', channel)) return 'That channel is not available to you.';
      const read = await readPlatform(ctx, (h) => h.recent(workspace, { id: channel, kind: 'channel' }, SUMMARY_MESSAGES));
      return summaryOf(
        read,
        channel,
        async () =>
          (await ctx.store.recentMessages(ctx.scope, channel, SUMMARY_MESSAGES))
            .filter((m) => reaches(m.conversationKind, m.channelExternalId))
            .map((m) => line(m.createdAt, m.channelExternalId, m.role, m.content)),
        'That channel has no recent messages.',
      );
    }
    // The current conversation is by definition visible to this audience: a DM's recent messages, or the thread.
    const read = await readPlatform(ctx, (h) =>
      here.kind === 'dm'
        ? h.recent(workspace, here, SUMMARY_MESSAGES)
        : h.thread(workspace, here, ctx.envelope.threadId ?? ctx.envelope.messageId, SUMMARY_MESSAGES),
    );
    return summaryOf(
      read,
      'this thread',
      async () =>
        (await ctx.turns.listHistory(ctx.scope, ctx.conversationId, SUMMARY_MESSAGES)).map((m) =>
          line(m.createdAt, 'this thread', m.role, m.content),
        ),
      'This thread has no earlier messages.',
    );
  },
};

const remember: AgentTool<{ note: string }> = {
  name: 'remember',
  description: 'Remember a personal note for the requester (only in their DM).',
  inputSchema: z.object({ note: z.string().min(1).max(1000) }),
  async run(ctx, input) {
    await ctx.store.remember(ctx.scope, ctx.principal.id, input.note);
    return 'Noted.';
  },
};

const recall: AgentTool<{ query?: string | undefined }> = {
  name: 'recall',
  description: 'Recall the requester’s personal notes (only in their DM).',
  inputSchema: z.object({ query: z.string().max(200).optional() }),
  async run(ctx) {
    const notes = await ctx.store.recall(ctx.scope, ctx.principal.id, MAX_ITEMS);
    if (notes.length === 0) return 'No notes yet.';
    return notes.map((n) => line(n.createdAt, 'note', 'note', n.content)).join('\n');
  },
};

const workspaceStatus: AgentTool<{ about?: string | undefined }> = {
  name: 'workspace_status',
  description: 'The requester’s role, the workspace limits and the requester’s usage today.',
  inputSchema: z.object({ about: z.string().max(200).optional() }),
  async run(ctx) {
    const used = await ctx.store.usageToday(ctx.scope, ctx.principal.id);
    const s = ctx.settings;
    return [
      `Your role: ${ctx.principal.role}.`,
      `Limits: ${limitsLine(s, ctx.limitDefaults)}.`,
      `Your usage today: ${used.calls} calls, ${used.inputTokens + used.outputTokens} tokens.`,
    ].join('\n');
  },
};

export const builtinTools: Record<ToolName, AgentTool<any>> = {
  search_history: searchHistory,
  summarize_thread: summarizeThread,
  remember,
  recall,
  workspace_status: workspaceStatus,
};
