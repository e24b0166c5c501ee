/**
 * The `/agent …` grammar: one for Slack (slash command) and Teams (a message starting with
 * /agent). Tokens are checked with zod; a bad argument yields that command's usage line.
 *
 * Mentions: Slack sends `<@U123|name>` or `<@U123>` and `<#C123|name>` or `<#C123>`; Teams and
 * the console write plain `@user-id` and `#channel-id` (the Teams adapter replaces its `<at>`
 * mentions with `@<aad-object-id>` before the core sees the text).
 */
import { z } from 'zod';
import { TOOL_NAMES } from '../access/policy.js';

const MAX_SETTING = 1_000_000_000;

const mentionOf = (sigil: '@' | '#', what: string) =>
  z.string().transform((token, ctx) => {
    const slack = new RegExp(`^<${sigil}([^\\s|<>]+)(?:\\|[^<>]*)?>$`).exec(token);
    const plain = new RegExp(`^${sigil}([^\\s|<>@#]+)$`).exec(token);
    const id = slack?.[1] ?? plain?.[1];
    if (!id || id.length > 256) {
      ctx.addIssue({ code: 'custom', message: `expected ${what}` });
      return z.NEVER;
    }
    return id;
  });

export const userMention = mentionOf('@', '@user');
export const channelMention = mentionOf('#', '#channel');
const onOff = z.enum(['on', 'off']).transform((v) => v === 'on');
const count = z
  .string()
  .regex(/^\d{1,10}$/)
  .transform(Number)
  .pipe(z.number().int().positive().max(MAX_SETTING));
const perDay = z
  .string()
  .regex(/^\d{1,12}\/day$/)
  .transform((v) => Number(v.slice(0, -4)))
  .pipe(z.number().int().positive().max(MAX_SETTING * 1000));
const days = z
  .string()
  .regex(/^\d{1,5}d?$/)
  .transform((v) => Number(v.replace(/d$/, '')))
  .pipe(z.number().int().positive().max(36_500));
const roleArg = z.enum(['owner', 'admin', 'member', 'guest', 'clear']).transform((v) => (v === 'clear' ? null : v));
const windowArg = z.enum(['24h', '7d']);

export const commandSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('help') }),
  z.object({ name: z.literal('status') }),
  z.object({ name: z.literal('role'), user: z.string(), role: z.enum(['owner', 'admin', 'member', 'guest']).nullable() }),
  z.object({ name: z.literal('agent'), enabled: z.boolean(), channel: z.string().nullable() }),
  z.object({ name: z.literal('guests'), enabled: z.boolean() }),
  z.object({ name: z.literal('content'), keep: z.boolean() }),
  z.object({ name: z.literal('tools'), channel: z.string(), allowed: z.boolean(), tool: z.enum(TOOL_NAMES) }),
  z.object({ name: z.literal('limit'), key: z.enum(['rpm', 'concurrency']), value: z.number().int().positive() }),
  z.object({ name: z.literal('budget'), tokens: z.number().int().positive() }),
  z.object({ name: z.literal('audit'), user: z.string().nullable(), window: windowArg.nullable() }),
  z.object({ name: z.literal('retention'), days: z.number().int().positive().nullable() }),
  z.object({ name: z.literal('forget'), user: z.string().nullable() }),
]);
export type Command = z.infer<typeof commandSchema>;
export type CommandWord = Command['name'];

interface Rule {
  usage: string;
  /** Parses the arguments (the words after the command's name). */
  args: z.ZodType<Command, string[]>;
}

const rules: Record<CommandWord, Rule> = {
  help: { usage: '/agent help', args: z.tuple([]).transform(() => ({ name: 'help' as const })) },
  status: { usage: '/agent status', args: z.tuple([]).transform(() => ({ name: 'status' as const })) },
  role: {
    usage: '/agent role @user owner|admin|member|guest|clear',
    args: z.tuple([userMention, roleArg]).transform(([user, role]) => ({ name: 'role' as const, user, role })),
  },
  agent: {
    usage: '/agent agent on|off [#channel]',
    args: z
      .union([z.tuple([onOff]), z.tuple([onOff, channelMention])])
      .transform(([enabled, channel]) => ({ name: 'agent' as const, enabled, channel: channel ?? null })),
  },
  guests: { usage: '/agent guests on|off', args: z.tuple([onOff]).transform(([enabled]) => ({ name: 'guests' as const, enabled })) },
  content: { usage: '/agent content on|off', args: z.tuple([onOff]).transform(([keep]) => ({ name: 'content' as const, keep })) },
  tools: {
    usage: `/agent tools #channel allow|deny ${TOOL_NAMES.join('|')}`,
    args: z
      .tuple([channelMention, z.enum(['allow', 'deny']), z.enum(TOOL_NAMES)])
      .transform(([channel, rule, tool]) => ({ name: 'tools' as const, channel, allowed: rule === 'allow', tool })),
  },
  limit: {
    usage: '/agent limit rpm N | /agent limit concurrency N',
    args: z.tuple([z.enum(['rpm', 'concurrency']), count]).transform(([key, value]) => ({ name: 'limit' as const, key, value })),
  },
  budget: {
    usage: '/agent budget tokens N/day',
    args: z.tuple([z.literal('tokens'), perDay]).transform(([, tokens]) => ({ name: 'budget' as const, tokens })),
  },
  audit: {
    usage: '/agent audit [@user] [24h|7d]',
    args: z
      .union([
        z.tuple([]).transform(() => [null, null] as const),
        z.tuple([userMention]).transform(([u]) => [u, null] as const),
        z.tuple([windowArg]).transform(([w]) => [null, w] as const),
        z.tuple([userMention, windowArg]),
      ])
      .transform(([user, window]) => ({ name: 'audit' as const, user, window })),
  },
  retention: {
    usage: '/agent retention DAYS|off',
    args: z
      .tuple([z.union([z.literal('off').transform(() => null), days])])
      .transform(([d]) => ({ name: 'retention' as const, days: d })),
  },
  forget: {
    usage: '/agent forget me | /agent forget @user',
    args: z
      .tuple([z.union([z.literal('me').transform(() => null), userMention])])
      .transform(([user]) => ({ name: 'forget' as const, user })),
  },
};

export const COMMAND_WORDS = Object.keys(rules) as CommandWord[];

export function usageOf(name: CommandWord): string {
  return `Usage: ${rules[name].usage}`;
}

export const USAGE = `Usage: /agent ${COMMAND_WORDS.map((n) => rules[n].usage.replaceAll('/agent ', '')).join(' · ')}`;

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
  const normalized = args.map((a) => (/^[<@#]/.test(a) ? a : a.toLowerCase()));
  const parsed = rule.args.safeParse(normalized);
  if (!parsed.success) return { ok: false, name: name as CommandWord, message: usageOf(name as CommandWord) };
  const checked = commandSchema.safeParse(parsed.data);
  if (!checked.success) return { ok: false, name: name as CommandWord, message: usageOf(name as CommandWord) };
  return { ok: true, command: checked.data };
}
