/**
 * The tokens `/agent` commands take (mentions, counts, windows, budgets, model names, URLs), each a
 * zod schema that turns what was typed into a value or a usage error. grammar.ts puts them together.
 */
import { z } from 'zod';
import { CONNECTION_NAME, TOOL_PATTERN } from '../access/connected-rules.js';

export const MAX_SETTING = 1_000_000_000;

export const mentionOf = (sigil: '@' | '#', what: string) =>
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
export const onOff = z.enum(['on', 'off']).transform((v) => v === 'on');
export const count = z
  .string()
  .regex(/^\d{1,10}$/)
  .transform(Number)
  .pipe(z.number().int().positive().max(MAX_SETTING));
export const days = z
  .string()
  .regex(/^\d{1,5}d?$/)
  .transform((v) => Number(v.replace(/d$/, '')))
  .pipe(z.number().int().positive().max(36_500));
export const budgetAmount = (unit: 'tokens' | 'usd') =>
  z.string().transform((v, ctx) => {
    if (v === 'off') return { amount: null, period: null };
    const m = unit === 'tokens' ? /^(\d{1,12})\/(day|month)$/.exec(v) : /^\$?(\d{1,9}(?:\.\d{1,6})?)\/(day|month)$/.exec(v);
    // Dollars are kept as micro-USD (whole numbers).
    const amount = m ? (unit === 'tokens' ? Number(m[1]) : Math.round(Number(m[1]) * 1_000_000)) : 0;
    if (!m || amount <= 0 || amount > MAX_SETTING * 1_000_000) {
      ctx.addIssue({ code: 'custom', message: 'expected N/day, N/month or off' });
      return z.NEVER;
    }
    return { amount, period: m[2] as 'day' | 'month' };
  });
export const budgetArgs = (unit: 'tokens' | 'usd') => z.tuple([z.literal(unit), budgetAmount(unit)]).transform(([, a]) => ({ unit, ...a }));
export const usageWindow = z.enum(['today', '7d', '30d', 'month']);
export const usageBy = z.tuple([z.literal('by'), z.enum(['user', 'model', 'channel'])]);
/** A MODEL_CHOICES name (config.ts holds them to the same form), or `default` to clear the choice. */
export const choiceArg = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._:-]{0,63}$/)
  .refine((v) => v !== 'cheap')
  .transform((v) => (v === 'default' ? null : v));
export const roleArg = z.enum(['owner', 'admin', 'member', 'guest', 'clear']).transform((v) => (v === 'clear' ? null : v));
export const windowArg = z.enum(['24h', '7d']);
export const connectionName = z.string().regex(CONNECTION_NAME);
export const toolPattern = z.string().regex(TOOL_PATTERN);
/** A URL as typed, or as Slack escapes it (`<https://…>` or `<https://…|label>`). */
export const serverUrl = z
  .string()
  .max(2_000)
  .transform((v) => /^<([a-z]+:\/\/[^|<>\s]+)(?:\|[^<>]*)?>$/i.exec(v)?.[1] ?? v)
  .pipe(z.string().regex(/^[a-z]+:\/\/\S+$/i));
