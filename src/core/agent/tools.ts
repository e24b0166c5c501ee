/**
 * The agent's built-in tools. Each runs as the requester: it declares its name (the permission
 * it needs, checked by toolAllowed at call time), validates its input with zod, reads only
 * through scoped store functions, and passes what it found through the audience rule before
 * it can reach a prompt whose answer the channel will read.
 */
import { z } from 'zod';
import type { ChannelKind, Envelope } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { AgentStore, TurnStore, WorkspaceSettings } from '../ports.js';
import { audienceMaySee, type Audience, type Visibility } from '../prompt.js';
import { mapBounded } from './bounded.js';
import type { ToolName } from './permissions.js';

export interface ToolContext {
  scope: Scope;
  principal: { id: string; role: string };
  envelope: Envelope;
  conversationId: string;
  audience: Audience;
  store: AgentStore;
  turns: TurnStore;
  settings: WorkspaceSettings;
  /** Whether the requester is a member of a channel, as the platform says; false when unknown. */
  isMember(channelExternalId: string, kind: ChannelKind): Promise<boolean>;
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

const searchHistory: AgentTool<{ query: string; channel?: string | undefined; sinceDays?: number | undefined }> = {
  name: 'search_history',
  description: 'Search earlier messages (full text) that this conversation may use. Optional channel id and time window.',
  inputSchema: z.object({
    query: z.string().min(1).max(200),
    channel: z.string().max(100).optional(),
    sinceDays: z.number().int().min(1).max(365).optional(),
  }),
  async run(ctx, input) {
    const here = ctx.envelope.channel;
    // In a channel or group the whole audience reads the answer: only this channel qualifies.
    // In a DM: the requester's own DMs plus channels they are a member of (asked of the platform).
    let channels: string[];
    if (here.kind !== 'dm') {
      channels = [here.id];
    } else {
      const candidates = await ctx.store.channelsWithHistory(ctx.scope, MAX_CANDIDATE_CHANNELS);
      // Membership is asked of the platform, a few channels at a time (its rate limits).
      const checked = await mapBounded(candidates, MEMBERSHIP_PARALLEL, async (c) =>
        (await ctx.isMember(c.externalId, c.kind)) ? c.externalId : null,
      );
      channels = checked.filter((c): c is string => c !== null);
    }
    if (input.channel) channels = channels.filter((c) => c === input.channel);
    const allowed = new Set(channels);
    const found = await ctx.store.searchMessages(ctx.scope, {
      text: input.query,
      channelExternalIds: channels,
      dmOwnerPrincipalId: here.kind === 'dm' && !input.channel ? ctx.principal.id : null,
      ...(input.sinceDays ? { since: new Date(Date.now() - input.sinceDays * 86_400_000) } : {}),
      limit: MAX_ITEMS,
    });
    // The store query is already narrowed; the audience rule is applied again as the last word.
    const visible = found.filter((m) => {
      const visibility: Visibility =
        m.conversationKind === 'dm'
          ? { kind: 'dm', ownerPrincipalId: m.ownerPrincipalId ?? '' }
          : { kind: m.conversationKind, channelExternalId: m.channelExternalId };
      return audienceMaySee(ctx.audience, visibility, (id) => allowed.has(id));
    });
    if (visible.length === 0) return `No messages found for "${input.query}".`;
    return visible
      .map((m) => line(m.createdAt, m.conversationKind === 'dm' ? 'your DM' : m.channelExternalId, m.role, m.content))
      .join('\n');
  },
};

const summarizeThread: AgentTool<{ focus?: string | undefined; channel?: string | undefined }> = {
  name: 'summarize_thread',
  description:
    'Read the current thread (its stored messages) to summarize it; or, from a DM, the recent messages of a channel id you are in.',
  inputSchema: z.object({ focus: z.string().max(200).optional(), channel: z.string().max(100).optional() }),
  async run(ctx, input) {
    const here = ctx.envelope.channel;
    if (input.channel && input.channel !== here.id) {
      // Another channel's messages may reach only a DM audience, and only from a channel the requester is in.
      if (here.kind !== 'dm') return 'Only this conversation can be summarized here; ask in a direct message for other channels.';
      if (!(await ctx.isMember(input.channel, 'channel'))) return 'That channel is not available to you.';
      const channel = input.channel;
      const recent = await ctx.store.recentMessages(ctx.scope, channel, 50);
      const visible = recent.filter((m) =>
        audienceMaySee(ctx.audience, { kind: m.conversationKind === 'group' ? 'group' : 'channel', channelExternalId: m.channelExternalId }, (id) => id === channel),
      );
      if (visible.length === 0) return 'That channel has no stored messages.';
      return visible.map((m) => line(m.createdAt, m.channelExternalId, m.role, m.content)).join('\n');
    }
    // The current conversation is by definition visible to this audience.
    const history = await ctx.turns.listHistory(ctx.scope, ctx.conversationId, 50);
    if (history.length === 0) return 'This thread has no earlier messages.';
    return history.map((m) => line(m.createdAt, 'this thread', m.role, m.content)).join('\n');
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
      `Limits: ${s.rpm ?? 'default'} requests/minute, ${s.dailyTokens ?? 'no'} daily token budget.`,
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
