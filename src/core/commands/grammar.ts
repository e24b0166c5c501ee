/**
 * The `/agent …` grammar: one for Slack (slash command) and Teams (a message starting with
 * /agent). Tokens are checked with zod; a bad argument yields that command's usage line.
 *
 * Mentions: Slack sends `<@U123|name>` or `<@U123>` and `<#C123|name>` or `<#C123>`; Teams and
 * the console write plain `@user-id` and `#channel-id` (the Teams adapter replaces its `<at>`
 * mentions with `@<aad-object-id>` before the core sees the text).
 */
import { z } from 'zod';
import { OPEN_COMMANDS, TOOL_NAMES } from '../access/policy.js';
import { INSTRUCTIONS_MAX_CHARS } from '../prompt.js';
import { instructionsArgs, restAfterWord } from './free-text.js';
import { userMention, channelMention, onOff, count, days, budgetArgs, usageWindow, usageBy, choiceArg, roleArg, windowArg, toolPattern } from './arguments.js';
import { toolPatternSchema } from '../confirm/rules.js';
import { connectionCommandSchemas, connectionRules } from './grammar-connections.js';
import type { HelpLine, Rule as RuleOf } from './rule.js';

export { channelMention, userMention } from './arguments.js';
export type { HelpLine } from './rule.js';

/** The command words, in the order help lists them. */
const WORDS = ['help', 'status', 'role', 'agent', 'guests', 'content', 'tools', 'connect', 'connections', 'disconnect', 'limit', 'budget', 'usage', 'model', 'instructions', 'audit', 'feedback', 'retention', 'knowledge', 'forget', 'settings'] as const;

export const commandSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('help'), topic: z.enum(WORDS).nullable() }),
  z.object({ name: z.literal('status') }),
  z.object({ name: z.literal('settings') }),
  z.object({ name: z.literal('role'), user: z.string(), role: z.enum(['owner', 'admin', 'member', 'guest']).nullable() }),
  z.object({ name: z.literal('agent'), enabled: z.boolean(), channel: z.string().nullable() }),
  z.object({ name: z.literal('guests'), enabled: z.boolean() }),
  z.object({ name: z.literal('content'), keep: z.boolean() }),
  /**
   * channel '*': the whole workspace. allow: a built-in's name or a connected-tool pattern (guests
   * only for connected tools); confirm: whether matching tools wait for the requester's click.
   */
  z.object({
    name: z.literal('tools'),
    channel: z.string(),
    rule: z.union([
      z.object({ kind: z.literal('allow'), allowed: z.boolean(), tool: z.string(), guests: z.boolean() }),
      z.object({ kind: z.literal('confirm'), pattern: toolPatternSchema, mode: z.enum(['always', 'never']) }),
    ]),
  }),
  ...connectionCommandSchemas,
  z.object({ name: z.literal('limit'), key: z.enum(['rpm', 'concurrency', 'tpm']), value: z.number().int().positive() }),
  z.object({
    name: z.literal('budget'),
    subject: z.enum(['workspace', 'user']),
    unit: z.enum(['tokens', 'usd']),
    /** null with `off`: both periods are cleared. */
    period: z.enum(['day', 'month']).nullable(),
    /** Tokens, or micro-USD; null clears. */
    amount: z.number().int().positive().nullable(),
  }),
  z.object({ name: z.literal('usage'), me: z.boolean(), window: usageWindow, by: z.enum(['user', 'model', 'channel']).nullable() }),
  z.object({ name: z.literal('audit'), user: z.string().nullable(), window: windowArg.nullable(), exportDays: z.number().int().positive().nullable() }),
  z.object({ name: z.literal('feedback'), days: z.union([z.literal(7), z.literal(30)]) }),
  z.object({
    name: z.literal('model'),
    /** null: show the models in force. */
    set: z.object({ channel: z.string().nullable(), tier: z.enum(['answer', 'small']), choice: z.string().nullable() }).nullable(),
  }),
  z.object({
    name: z.literal('instructions'),
    /** null: show them; text null: clear. */
    set: z.object({ channel: z.string().nullable(), text: z.string().nullable() }).nullable(),
  }),
  z.object({ name: z.literal('retention'), days: z.number().int().positive().nullable() }),
  z.object({ name: z.literal('knowledge'), channel: z.string().nullable(), enabled: z.boolean().nullable() }),
  z.object({ name: z.literal('forget'), user: z.string().nullable() }),
]);
export type Command = z.infer<typeof commandSchema>;
export type CommandWord = Command['name'];
// WORDS must name every command of the schema (rules below is keyed by the schema's names).
const everyWord: Exclude<CommandWord, (typeof WORDS)[number]> extends never ? true : never = true;
void everyWord;

type Rule = RuleOf<Command>;

const commandWord = z.enum(WORDS);

const rules: Record<CommandWord, Rule> = {
  help: {
    forms: [{ usage: '/agent help [COMMAND]', summary: 'This list, or the details of one command', policy: 'help', menu: true }],
    details: 'Lists the commands, for everyone and for admins. With a command word, explains that command. Example: /agent help limit',
    args: z
      .union([z.tuple([]).transform(() => null), z.tuple([commandWord]).transform(([w]) => w)])
      .transform((topic) => ({ name: 'help' as const, topic })),
  },
  status: {
    forms: [{ usage: '/agent status', summary: 'Your role, the model, the limits in force and today\'s usage', policy: 'status', menu: true }],
    details:
      'Shows your role here, the model that answers, the limits in force for this workspace (its own settings, or the service defaults), the tokens used today and the settings of this channel. Only you see the answer.',
    args: z.tuple([]).transform(() => ({ name: 'status' as const })),
  },
  settings: {
    forms: [{ usage: '/agent settings', summary: 'Your Quorum: role, notes, usage; for admins also the workspace settings to change', policy: 'settings' }],
    details:
      "Shows your own view of Quorum: your role, your notes and your usage this week; admins and owners also see the workspace's settings, usage and cost, with forms to change them (in Slack, Quorum's Home tab; in Teams, a card in your 1:1 chat with Quorum). Changes made there are the same commands, checked and audited the same way.",
    args: z.tuple([]).transform(() => ({ name: 'settings' as const })),
  },
  role: {
    forms: [{ usage: '/agent role @user owner|admin|member|guest|clear', summary: "Set someone's role in Quorum, or clear it back to the platform's", policy: 'role', menu: true }],
    details:
      "Grants a role in Quorum that overrides the one Slack or Teams gives. `clear` removes the grant. Only owners make owners, and the last owner or admin cannot be demoted. Example: /agent role @dana admin",
    args: z.tuple([userMention, roleArg]).transform(([user, role]) => ({ name: 'role' as const, user, role })),
  },
  agent: {
    forms: [{ usage: '/agent agent on|off [#channel]', summary: 'Switch the agent on or off in a channel (this one by default)', policy: 'agent', menu: true }],
    details: 'Switches the agent off (or back on) in a channel: while off it answers nobody there. Without a channel it applies to the channel you type it in. Example: /agent agent off #random',
    args: z
      .union([z.tuple([onOff]), z.tuple([onOff, channelMention])])
      .transform(([enabled, channel]) => ({ name: 'agent' as const, enabled, channel: channel ?? null })),
  },
  guests: {
    forms: [{ usage: '/agent guests on|off', summary: 'Let guests and external users talk to the agent, or not', policy: 'guests' }],
    details: 'Whether guests and people from other organizations (Slack Connect, Teams guests) may use the agent in this workspace. Example: /agent guests off',
    args: z.tuple([onOff]).transform(([enabled]) => ({ name: 'guests' as const, enabled })),
  },
  content: {
    forms: [{ usage: '/agent content on|off', summary: 'Keep message text in the audit log, or hashes only', policy: 'content' }],
    details: 'With content on, the audit log keeps the text of channel messages; off (the default) keeps only their SHA-256 hashes. Direct and group messages are always hashed. Example: /agent content on',
    args: z.tuple([onOff]).transform(([keep]) => ({ name: 'content' as const, keep })),
  },
  tools: {
    forms: [
      { usage: `/agent tools #channel allow|deny ${TOOL_NAMES.join('|')}`, summary: 'Allow or deny one of the agent\'s tools in a channel', policy: 'tools', menu: true },
      { usage: '/agent tools #channel|all allow|deny CONNECTION.TOOL [guests]', summary: 'Open or close connected tools (patterns: github.*) in a channel or the workspace', policy: 'tools' },
      { usage: '/agent tools #channel|all confirm PATTERN always|never', summary: 'Whether tools need the requester\'s click before they run', policy: 'tools' },
    ],
    details:
      `Sets whether the agent may use a tool in a channel. Built-in tools: ${TOOL_NAMES.join(', ')}. ` +
      'Connected tools (MCP) are off until allowed, for a channel or for the whole workspace (all), by name or pattern (* matches anything); a matching deny wins; guests and external users get them only through an allow ending in guests. ' +
      'With confirm, tools matching the pattern (a name, or * as a wildcard: github.*) run only after the person who asked clicks Confirm (always), or never ask (never); ' +
      'by default a connected tool that may change something asks. ' +
      'Examples: /agent tools #general deny search_history · /agent tools #eng allow github.* · /agent tools all allow wiki.search guests · /agent tools #eng deny github.delete_* · /agent tools all confirm remember always',
    args: z.union([
      z
        .tuple([channelMention, z.enum(['allow', 'deny']), z.enum(TOOL_NAMES)])
        .transform(([channel, rule, tool]) => ({ name: 'tools' as const, channel, rule: { kind: 'allow' as const, allowed: rule === 'allow', tool, guests: false } })),
      z
        .union([
          z.tuple([z.union([channelMention, z.literal('all').transform(() => '*')]), z.enum(['allow', 'deny']), toolPattern]),
          z.tuple([z.union([channelMention, z.literal('all').transform(() => '*')]), z.literal('allow'), toolPattern, z.literal('guests')]),
        ])
        .transform(([channel, rule, tool, guests]) => ({ name: 'tools' as const, channel, rule: { kind: 'allow' as const, allowed: rule === 'allow', tool, guests: guests === 'guests' } })),
      z
        .tuple([z.union([channelMention, z.literal('all').transform(() => '*')]), z.literal('confirm'), z.string(), z.enum(['always', 'never'])])
        .transform(([channel, , pattern, mode]) => ({ name: 'tools' as const, channel, rule: { kind: 'confirm' as const, pattern, mode } })),
    ]),
  },
  ...connectionRules,
  limit: {
    forms: [
      { usage: '/agent limit rpm N', summary: 'Model requests per minute for this workspace', policy: 'limit', menu: true },
      { usage: '/agent limit concurrency N', summary: 'Model calls at once for this workspace', policy: 'limit' },
      { usage: '/agent limit tpm N', summary: 'Model tokens per minute for this workspace', policy: 'limit' },
    ],
    details: 'Sets this workspace\'s own model limits in place of the service defaults: requests per minute (a turn with tools makes several), calls running at once, and tokens per minute (prompt and answer, over any sliding minute). /agent status shows the numbers in force. Example: /agent limit rpm 60 (or /agent limit tpm 50000)',
    args: z.tuple([z.enum(['rpm', 'concurrency', 'tpm']), count]).transform(([key, value]) => ({ name: 'limit' as const, key, value })),
  },
  budget: {
    forms: [
      { usage: '/agent budget tokens|usd N/day|N/month|off', summary: 'What this workspace may spend per day or month, in tokens or US dollars', policy: 'budget', menu: true },
      { usage: '/agent budget user tokens|usd N/day|N/month|off', summary: 'What each person may spend per day or month', policy: 'budget' },
    ],
    details:
      'Sets a budget of this workspace, or of each person in it (`user`), in tokens or US dollars, per day or per calendar month (UTC); `off` clears that unit\'s budgets. Every budget holds at once: a call is sent only with the answer size the tightest one still allows, the agent says which budget is used up, and admins are told at 80%. Examples: /agent budget usd 200/month · /agent budget user tokens 50000/day · /agent budget usd off',
    args: z
      .union([budgetArgs('tokens'), budgetArgs('usd'), z.tuple([z.literal('user'), z.string(), z.string()]).transform(([, unit, amount], ctx) => {
        const parsed = z.union([budgetArgs('tokens'), budgetArgs('usd')]).safeParse([unit, amount]);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: 'bad budget' });
          return z.NEVER;
        }
        return { ...parsed.data, subject: 'user' as const };
      })])
      .transform((b) => ({ name: 'budget' as const, subject: 'subject' in b ? b.subject : ('workspace' as const), unit: b.unit, period: b.period, amount: b.amount })),
  },
  usage: {
    forms: [
      { usage: '/agent usage [today|7d|30d|month] [by user|model|channel]', summary: 'Calls, tokens and cost of this workspace, with a total', policy: 'usage', menu: true },
      { usage: '/agent usage me [today|7d|30d|month]', summary: 'Your own calls, tokens and cost', policy: 'usage_me' },
    ],
    details:
      'Shows model calls, input and output tokens and their cost from the usage ledger over today, the last 7 or 30 days, or this calendar month (UTC; default today), one row per user, model or channel, with a total. Everyone may see their own with `me`. Example: /agent usage 30d by model',
    args: z
      .array(z.string())
      .max(4)
      .transform((words, ctx) => {
        const rest = [...words];
        const me = rest[0] === 'me';
        if (me) rest.shift();
        const window = usageWindow.safeParse(rest[0]);
        if (window.success) rest.shift();
        const by = rest.length === 0 ? null : usageBy.safeParse(rest);
        if (by !== null && !by.success) {
          ctx.addIssue({ code: 'custom', message: 'bad usage arguments' });
          return z.NEVER;
        }
        return { name: 'usage' as const, me, window: window.success ? window.data : ('today' as const), by: by ? by.data![1] : null };
      }),
  },
  model: {
    forms: [
      { usage: '/agent model', summary: 'The models that answer here and the ones admins may choose', policy: 'model_show' },
      { usage: '/agent model NAME|default', summary: 'The model that answers in this workspace', policy: 'model' },
      { usage: '/agent model #channel NAME|default', summary: 'The model that answers in one channel', policy: 'model' },
      { usage: '/agent model cheap NAME|default', summary: 'The model of the cheap steps (planning lookups, specialists)', policy: 'model' },
    ],
    details:
      "Chooses among the models the operator allows (MODEL_CHOICES; `/agent model` lists them with their prices). A channel's model wins over the workspace's; `default` clears a choice. Example: /agent model #support fast",
    args: z
      .union([
        z.tuple([]).transform(() => null),
        z.tuple([z.literal('cheap'), choiceArg]).transform(([, choice]) => ({ channel: null, tier: 'small' as const, choice })),
        z.tuple([channelMention, choiceArg]).transform(([channel, choice]) => ({ channel, tier: 'answer' as const, choice })),
        z.tuple([choiceArg]).transform(([choice]) => ({ channel: null, tier: 'answer' as const, choice })),
      ])
      .transform((set) => ({ name: 'model' as const, set })),
  },
  instructions: {
    forms: [
      { usage: '/agent instructions', summary: 'The instructions admins set for this workspace and this channel', policy: 'instructions_show' },
      { usage: '/agent instructions [#channel] TEXT', summary: `Instructions added to every prompt (at most ${INSTRUCTIONS_MAX_CHARS} characters)`, policy: 'instructions' },
      { usage: '/agent instructions clear [#channel]', summary: 'Remove the workspace\'s (or a channel\'s) instructions', policy: 'instructions' },
    ],
    details:
      `Instructions shape tone, format and focus; they go below Quorum's own rules and cannot change who sees what (access and the audience rule always apply). At most ${INSTRUCTIONS_MAX_CHARS} characters. Example: /agent instructions #support Answer in French, in bullet points.`,
    raw: true,
    args: z.tuple([z.string()]).transform(([rest], ctx) => {
      const set = instructionsArgs(rest);
      if (set === undefined) {
        ctx.addIssue({ code: 'custom', message: 'bad instructions' });
        return z.NEVER;
      }
      return { name: 'instructions' as const, set };
    }),
  },
  audit: {
    forms: [
      { usage: '/agent audit [@user] [24h|7d]', summary: 'Recent activity: messages, model calls, changes and refusals', policy: 'audit', menu: true },
      { usage: '/agent audit export DAYS', summary: 'The audit trail of the last DAYS days as a file, sent to you privately', policy: 'audit_export' },
    ],
    details:
      'Shows the last 20 audit entries, newest first, optionally for one person and within the last 24 hours or 7 days. `export 30d` sends you a JSON Lines file with the chain hashes and the signed head, which `npm run audit:verify -- --file` checks outside Quorum. Example: /agent audit @dana 24h',
    args: z
      .union([
        z.tuple([z.literal('export'), days]).transform(([, d]) => [null, null, d] as const),
        z.tuple([]).transform(() => [null, null, null] as const),
        z.tuple([userMention]).transform(([u]) => [u, null, null] as const),
        z.tuple([windowArg]).transform(([w]) => [null, w, null] as const),
        z.tuple([userMention, windowArg]).transform(([u, w]) => [u, w, null] as const),
      ])
      .transform(([user, window, exportDays]) => ({ name: 'audit' as const, user, window, exportDays })),
  },
  feedback: {
    forms: [{ usage: '/agent feedback [7d|30d]', summary: 'What people said of the answers: 👍 and 👎 per day, and the latest reasons', policy: 'feedback' }],
    details:
      'Sums the 👍 and 👎 people gave answers in the last 7 days (or 30), per day, with the latest reasons given for a 👎. Anyone who can see an answer may rate it, once. Example: /agent feedback 30d',
    args: z
      .union([z.tuple([]).transform(() => 7 as const), z.tuple([z.enum(['7d', '30d'])]).transform(([w]) => (w === '7d' ? (7 as const) : (30 as const)))])
      .transform((days) => ({ name: 'feedback' as const, days })),
  },
  retention: {
    forms: [{ usage: '/agent retention DAYS|off', summary: 'Delete stored messages after this many days', policy: 'retention' }],
    details: 'Stored conversation messages older than this are deleted; off keeps them until someone asks to be forgotten. Example: /agent retention 30d',
    args: z
      .tuple([z.union([z.literal('off').transform(() => null), days])])
      .transform(([d]) => ({ name: 'retention' as const, days: d })),
  },
  knowledge: {
    forms: [
      { usage: '/agent knowledge', summary: 'What Quorum has indexed per channel, and how far each backfill is', policy: 'knowledge' },
      { usage: '/agent knowledge #channel on|off', summary: 'Index a channel for knowledge, or stop and delete its index', policy: 'knowledge' },
    ],
    details:
      'Quorum keeps an index of the messages and files of the channels it is in, so that search_history finds them again for people who can see those channels. Without arguments: each channel with its state, backfill progress and indexed entries. `off` deletes the channel\'s entries and stops indexing it; `on` indexes it again from its history. Example: /agent knowledge #random off',
    args: z
      .union([
        z.tuple([]).transform(() => ({ channel: null, enabled: null })),
        z.tuple([channelMention, onOff]).transform(([channel, enabled]) => ({ channel, enabled })),
      ])
      .transform((a) => ({ name: 'knowledge' as const, ...a })),
  },
  forget: {
    forms: [
      { usage: '/agent forget me', summary: 'Delete what Quorum stored about you', policy: 'forget_me', menu: true },
      { usage: '/agent forget @user', summary: 'Delete what Quorum stored about someone', policy: 'forget_user' },
    ],
    details: 'Deletes the messages, notes, usage records and direct-message conversations stored for you (or, for admins, for someone else). The audit log keeps that it happened. Example: /agent forget me',
    args: z
      .tuple([z.union([z.literal('me').transform(() => null), userMention])])
      .transform(([user]) => ({ name: 'forget' as const, user })),
  },
};

export const COMMAND_WORDS: readonly CommandWord[] = WORDS;

export function usageOf(name: CommandWord): string {
  const usage = `Usage: ${rules[name].forms.map((f) => f.usage).join(' | ')}`;
  return name === 'help' ? `${usage} (COMMAND: ${COMMAND_WORDS.join(', ')})` : usage;
}

/** The grammar on one line (kept for an unknown command word). */
export const USAGE = `Usage: /agent ${COMMAND_WORDS.map((n) => rules[n].forms.map((f) => f.usage.replace('/agent ', '')).join(' | ')).join(' · ')}`;

/** Every form of every command, in grammar order: the source of `/agent help` and the Teams command menu. */
export const HELP_LINES: readonly HelpLine[] = COMMAND_WORDS.flatMap((n) => rules[n].forms);

/** Whether anyone may run this form, or only admins (and owners): the policy decides. */
export function isOpen(line: HelpLine): boolean {
  return (OPEN_COMMANDS as readonly string[]).includes(line.policy);
}

/** `/agent help`: each form on one line, for everyone, then for admins. */
export function helpText(): string {
  const list = (lines: readonly HelpLine[]) => lines.map((l) => `• \`${l.usage}\` — ${l.summary}`);
  return [
    'Quorum commands. `/agent help COMMAND` explains one.',
    'For everyone:',
    ...list(HELP_LINES.filter(isOpen)),
    'For admins and owners:',
    ...list(HELP_LINES.filter((l) => !isOpen(l))),
  ].join('\n');
}

/** `/agent help COMMAND`: its forms, who may run each, and what it does. */
export function helpFor(name: CommandWord): string {
  const rule = rules[name];
  const who = (l: HelpLine) => (isOpen(l) ? 'anyone' : 'admins');
  return [...rule.forms.map((l) => `\`${l.usage}\` (${who(l)}) — ${l.summary}`), rule.details].join('\n');
}

export type ParsedCommand =
  | { ok: true; command: Command }
  /** `name` is the command word when it was recognised (its arguments were wrong). */
  | { ok: false; name: CommandWord | null; message: string };

/** A message that is a command rather than a question (Teams has no slash commands for bots). */
export function isCommandText(text: string): boolean {
  return /^\s*\/agent(\s|$)/i.test(text);
}

/** Keeps `<…>` mentions whole, splits the rest on whitespace. */
export function tokenize(text: string): string[] {
  return text.match(/<[^<>\s]*(?:\|[^<>]*)?>|\S+/g) ?? [];
}

/** Strips a leading `/agent` and parses the rest. */
export function parseCommand(text: string): ParsedCommand {
  const [word = 'help', ...args] = tokenize(text.trim().replace(/^\/agent(?=\s|$)/i, ''));
  const name = word.toLowerCase();
  if (!Object.hasOwn(rules, name)) return { ok: false, name: null, message: `Unknown command "${word.slice(0, 40)}". ${USAGE}` };
  const rule = rules[name as CommandWord];
  // Keywords are case-insensitive; mentions keep their case (platform ids are case-sensitive).
  // URLs and connected tools' names keep their case too (MCP tool names are case-sensitive).
  const normalized = rule.raw ? [restAfterWord(text)] : args.map((a) => (/^[<@#]/.test(a) || /:\/\/|\./.test(a) ? a : a.toLowerCase()));
  const parsed = rule.args.safeParse(normalized);
  if (!parsed.success) return { ok: false, name: name as CommandWord, message: usageOf(name as CommandWord) };
  const checked = commandSchema.safeParse(parsed.data);
  if (!checked.success) return { ok: false, name: name as CommandWord, message: usageOf(name as CommandWord) };
  return { ok: true, command: checked.data };
}
