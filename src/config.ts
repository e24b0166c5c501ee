/**
 * The only reader of the environment. One zod schema; every other module receives what it
 * needs as arguments. `describeConfig()` feeds the README table (a test keeps them in step).
 */
import { z } from 'zod';

const secret = (description: string) => z.string().min(1).optional().describe(`secret: ${description}`);
const optionalUrl = (description: string) => z.url().optional().describe(description);
const positiveInt = (fallback: number, description: string) =>
  z.coerce.number().int().positive().default(fallback).describe(description);
const optionalPositiveInt = (description: string) =>
  z.coerce.number().int().positive().optional().describe(description);

const bootstrapAdmin = z
  .string()
  .regex(/^(slack|teams|console):[^:\s]+:[^:\s]+$/, 'expected platform:workspace:user, e.g. slack:T0123:U0456');

const encryptionKey = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (openssl rand -base64 32)')
  .optional()
  .describe('secret: 32 bytes, base64; encrypts stored platform tokens. Unset in development: generated once into DATA_DIR');

const modelProviders = ['offline', 'openai', 'anthropic'] as const;

/** One model admins may choose (`/agent model NAME`): where it lives, what it costs, what it takes. */
const modelChoice = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._:-]{0,63}$/, 'lowercase letters, digits, . _ : - (at most 64)')
      .refine((v) => v !== 'default' && v !== 'cheap', '"default" and "cheap" are words of /agent model, not names'),
    provider: z.enum(modelProviders),
    model: z.string().min(1).max(200),
    input: z.number().nonnegative(),
    output: z.number().nonnegative(),
    images: z.boolean().default(false),
    tools: z.boolean().default(true),
  })
  .strict();
export type ModelChoice = z.infer<typeof modelChoice>;

/** Names the bad entry by position and name, never by value beyond the name. */
function parseModelChoices(v: string, ctx: z.RefinementCtx): ModelChoice[] {
  let raw: unknown;
  try {
    raw = JSON.parse(v);
  } catch {
    raw = undefined;
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a non-empty JSON list like [{"name":"fast","provider":"openai","model":"gpt-4o-mini","input":0.15,"output":0.6,"images":true,"tools":true}]' });
    return [];
  }
  const seen = new Set<string>();
  return raw.flatMap((entry: unknown, i) => {
    const label = `entry ${i + 1}${entry && typeof entry === 'object' && typeof (entry as { name?: unknown }).name === 'string' ? ` ("${String((entry as { name: string }).name).slice(0, 64)}")` : ''}`;
    const parsed = modelChoice.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || 'entry';
      const why = issue.code === 'custom' || issue.code === 'invalid_format' ? issue.message : issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : describeIssue(issue);
      ctx.addIssue({ code: 'custom', message: `${label}: ${field}: ${why}` });
      return [];
    }
    if (seen.has(parsed.data.name)) ctx.addIssue({ code: 'custom', message: `${label}: the name is used twice` });
    seen.add(parsed.data.name);
    return [parsed.data];
  });
}

/**
 * Where the Bot Framework and Teams answer bots: Teams public (smba.trafficmanager.net), GCC, GCC
 * High and DoD (smba.infra.*.teams.microsoft.*), the other Bot Framework channels (*.botframework.com)
 * and the US Government cloud (*.botframework.azure.us).
 */
const BOT_SERVICE_HOSTS = [
  'smba.trafficmanager.net',
  'smba.infra.gcc.teams.microsoft.com',
  'smba.infra.gov.teams.microsoft.us',
  'smba.infra.dod.teams.microsoft.us',
  '*.botframework.com',
  '*.botframework.azure.us',
];
const hostPattern = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[?[0-9a-f:.]+\]?$/i;

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('production turns off the console and Teams without authentication, and requires real credentials'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP port for everything (console, /slack/events, /api/messages, /oauth/mcp/callback, /healthz, /readyz, /metrics)'),
  HOST: z.string().min(1).default('127.0.0.1').describe('interface to listen on; the console and Teams without authentication run only on a loopback address (127.0.0.1, ::1, localhost)'),
  METRICS_TOKEN: z.string().min(16).optional().describe('secret: bearer token GET /metrics requires (Authorization: Bearer …); at least 16 characters'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional().describe('serve /metrics on its own listener (METRICS_HOST:METRICS_PORT) instead of PORT'),
  METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('interface of the METRICS_PORT listener'),
  METRICS_WORKSPACE_LABELS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('true: token and cost metrics carry a workspace label (one series per workspace and model: mind the cardinality)'),
  MODEL_MAX_OUTPUT_TOKENS: positiveInt(4096, 'most output tokens a model call may produce (sent to the provider) when a budget or a tpm limit applies; budgets reserve this much'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
  DATABASE_URL: optionalUrl('PostgreSQL URL; unset: embedded PGlite in DATA_DIR'),
  DATABASE_POOL_SIZE: positiveInt(10, 'PostgreSQL connections per instance'),
  DATA_DIR: z.string().min(1).default('./.quorum').describe('folder for the embedded database and the development key'),
  REDIS_URL: optionalUrl('Redis URL; set it to share model limits across instances'),
  QUORUM_ENCRYPTION_KEY: encryptionKey,
  QUORUM_ADMINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const entries = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const entry of entries) {
        const parsed = bootstrapAdmin.safeParse(entry);
        if (!parsed.success) ctx.addIssue({ code: 'custom', message: `"${entry}": ${parsed.error.issues[0]?.message}` });
      }
      return entries.map((entry) => {
        const [platform, workspace, user] = entry.split(':') as ['slack' | 'teams' | 'console', string, string];
        return { platform, workspace, user };
      });
    })
    .describe('bootstrap admins, comma-separated platform:workspace:user (e.g. slack:T0123:U0456)'),

  MODEL_PROVIDER: z.enum(modelProviders).default('offline').describe('offline (local stand-in, no network) | openai (any OpenAI-compatible endpoint) | anthropic'),
  MODEL_BASE_URL: optionalUrl('provider base URL (e.g. http://localhost:11434/v1 for Ollama)'),
  MODEL_API_KEY: secret('provider API key'),
  MODEL_NAME: z.string().min(1).optional().describe('model for answers (default: provider-specific)'),
  MODEL_SMALL_NAME: z.string().min(1).optional().describe('cheaper model for simple steps (default: MODEL_NAME)'),
  MODEL_FALLBACK_NAME: z.string().min(1).optional().describe('fallback model when the main one fails or its breaker is open; setting it turns the fallback on'),
  MODEL_FALLBACK_PROVIDER: z.enum(modelProviders).optional().describe('provider of the fallback model (default: MODEL_PROVIDER)'),
  MODEL_FALLBACK_BASE_URL: optionalUrl('fallback provider base URL (default: MODEL_BASE_URL when the provider is the same)'),
  MODEL_FALLBACK_API_KEY: secret('fallback provider API key (default: MODEL_API_KEY when the provider is the same)'),
  MODEL_TIMEOUT_MS: positiveInt(60_000, 'timeout per model call'),
  MODEL_RPM: optionalPositiveInt('provider account requests per minute, shared by all workspaces'),
  MODEL_CONCURRENCY: optionalPositiveInt('provider account concurrent calls, shared by all workspaces'),
  WORKSPACE_RPM: positiveInt(300, 'default model requests per minute per workspace (calls are spaced 60 s / rpm apart; a multi-step turn makes several)'),
  WORKSPACE_CONCURRENCY: positiveInt(4, 'default concurrent model calls per workspace'),
  WORKSPACE_DAILY_TOKENS: optionalPositiveInt('default token budget per workspace per day; unset: unlimited'),
  MODEL_PRICES: z
    .string()
    .default('{}')
    .transform((v, ctx) => {
      try {
        return z.record(z.string(), z.object({ input: z.number().nonnegative(), output: z.number().nonnegative() })).parse(JSON.parse(v));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON like {"gpt-4o":{"input":2.5,"output":10}} (USD per million tokens)' });
        return z.NEVER;
      }
    })
    .describe('price table, USD per million tokens: {"model":{"input":N,"output":N}}'),
  MODEL_CHOICES: z
    .string()
    .optional()
    .transform((v, ctx) => (v === undefined ? undefined : parseModelChoices(v, ctx)))
    .describe('models admins may choose (/agent model), JSON list of {name, provider, model, input, output (USD per million tokens), images, tools}; a provider must be MODEL_PROVIDER or MODEL_FALLBACK_PROVIDER. Unset: MODEL_NAME (and MODEL_SMALL_NAME) only'),
  AUDIT_SIGNING_KEY: z.string().min(32).optional().describe('secret: key (at least 32 characters) that signs each audit chain head; unset: derived from QUORUM_ENCRYPTION_KEY (HKDF). Never stored in the database'),

  KNOWLEDGE: z.enum(['on', 'off']).default('on').describe('keep the knowledge index: messages and shared files of the channels Quorum is in, found again by search_history (admins switch channels off with /agent knowledge #channel off)'),
  KNOWLEDGE_BACKFILL_RPM: positiveInt(50, 'history calls per minute per workspace and method when a channel is backfilled (Slack Tier 3 allows about 50)'),
  KNOWLEDGE_BACKFILL_PAGE_SIZE: positiveInt(200, 'messages per history page read by a backfill (Slack allows up to 999, recommends 200)'),
  EMBEDDING_MODEL: z.string().min(1).optional().describe('embedding model on the OpenAI-compatible endpoint (MODEL_BASE_URL); set, and with pgvector in the database, knowledge search adds vector similarity to full text'),
  INBOX_MAX_ATTEMPTS: positiveInt(5, 'attempts before an inbox row is dead-lettered and the user told'),
  INBOX_LEASE_MS: positiveInt(30_000, 'how long a claimed inbox row stays claimed without a renewal (renewed every third of it while its turn runs)'),
  TURN_TIMEOUT_MS: positiveInt(300_000, 'longest a turn may run; then it is stopped and its row retried or dead-lettered'),
  WORKER_CONCURRENCY: positiveInt(32, 'turns one instance works on at once (most of a turn is waiting on the model and the platform)'),
  SHUTDOWN_GRACE_MS: positiveInt(10_000, 'time to finish claimed work on SIGTERM'),
  UNINSTALL_GRACE_DAYS: positiveInt(30, 'days a removed workspace keeps its data before deletion'),
  CONFIRM_TTL_MS: positiveInt(600_000, 'how long a tool call waits for its requester to click Confirm before it expires'),
  FILE_MAX_BYTES: positiveInt(20 * 1024 * 1024, 'largest file Quorum downloads and reads into a turn, in bytes (larger ones are named as skipped); default 20 MB'),

  SLACK_SIGNING_SECRET: secret('Slack signing secret'),
  SLACK_BOT_TOKEN: secret('Slack bot token (single workspace)'),
  SLACK_APP_TOKEN: secret('Slack app-level token; set it for Socket Mode'),
  SLACK_CLIENT_ID: z.string().min(1).optional().describe('Slack OAuth client id (many workspaces)'),
  SLACK_CLIENT_SECRET: secret('Slack OAuth client secret'),
  SLACK_STATE_SECRET: secret('Slack OAuth state secret'),
  SLACK_API_URL: z.url().default('https://slack.com/api/').describe('Slack Web API base (GovSlack, tests)'),
  SLACK_APP_ID: z.string().regex(/^A[A-Z0-9]{2,30}$/, 'expected a Slack app id like A0123ABCD').optional().describe("this Slack app's id (Basic Information → App ID); requests for another app are refused. Unset: the app of the bot token or installation"),

  MICROSOFT_APP_ID: z.string().min(1).optional().describe('Azure Bot app id; unset: Teams auth off (not allowed in production)'),
  MICROSOFT_APP_PASSWORD: secret('Azure Bot client secret'),
  MICROSOFT_APP_TENANT_ID: z.string().min(1).optional().describe('tenant of a SingleTenant bot'),
  MICROSOFT_APP_TYPE: z.enum(['SingleTenant', 'MultiTenant', 'UserAssignedMSI']).default('SingleTenant').describe('Azure Bot type'),
  MICROSOFT_SERVICE_URL_HOSTS: z
    .string()
    .default(BOT_SERVICE_HOSTS.join(','))
    .transform((v, ctx) => {
      const hosts = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const h of hosts) if (!hostPattern.test(h)) ctx.addIssue({ code: 'custom', message: `"${h.slice(0, 60)}" is not a host name or *.domain pattern` });
      return hosts;
    })
    .describe('hosts an activity serviceUrl may name, the only ones Quorum sends its Teams token to: comma-separated, *.domain for the names below it (sovereign clouds, tests)'),

  QUORUM_TOOLS_FILE: z.string().min(1).optional().describe('JSON file of connected tools (MCP servers) the operator declares: remote (url) and local stdio (command) servers, per workspace or for all; checked at start-up'),
  TOOL_TIMEOUT_MS: positiveInt(30_000, 'timeout of one connected tool call (MCP tools/call)'),
  TOOL_CONCURRENCY: positiveInt(4, 'connected tool calls running at once per workspace and connection'),
  TOOL_RPM: positiveInt(60, 'connected tool calls per minute per workspace and connection'),
  TOOL_OUTPUT_MAX_CHARS: positiveInt(16_000, 'longest tool output that reaches the model; longer output is cut, with a note saying so'),
  TOOLS_ALLOW_PRIVATE_NETWORKS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('let connections reach loopback, link-local and private addresses (checked on the address actually connected to)'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .refine((u) => !/[?#]/.test(u), 'must be the base address people reach Quorum at, without ?query or #fragment (e.g. https://quorum.example.com)')
    .transform((u) => u.replace(/\/+$/, ''))
    .optional()
    .describe(
      "the address people's browsers reach Quorum at (https://quorum.example.com): connected tools' OAuth sign-ins come back to PUBLIC_URL/oauth/mcp/callback; unset: servers' own sign-in is off, personal tokens still work",
    ),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once. Every bad variable is named in one error; values are never echoed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(blanksRemoved);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${String(issue.path[0] ?? '?')}: ${describeIssue(issue)}`);
  problems.push(...crossFieldProblems(blanksRemoved as Partial<Record<keyof Config, string>>));
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

/** Checks that span variables; they read the raw strings so they run even when another variable is bad. */
function crossFieldProblems(env: Partial<Record<keyof Config, string>>): string[] {
  const c: Partial<Record<keyof Config, string>> = {
    ...env,
    MODEL_PROVIDER: env.MODEL_PROVIDER ?? 'offline',
    NODE_ENV: env.NODE_ENV ?? 'development',
    MICROSOFT_APP_TYPE: env.MICROSOFT_APP_TYPE ?? 'SingleTenant',
  };
  const problems: string[] = [];
  const main = mainEndpoint(c);
  problems.push(...endpointProblems(main, 'MODEL_PROVIDER is', 'MODEL_'));
  const fallback = fallbackEndpoint(c);
  // A fallback on the main's very endpoint has the main's problems, already named above.
  if (fallback && !sameEndpoint(main, fallback)) problems.push(...endpointProblems(fallback, 'the fallback provider is', 'MODEL_FALLBACK_'));
  const fallbackSettings = (['MODEL_FALLBACK_PROVIDER', 'MODEL_FALLBACK_BASE_URL', 'MODEL_FALLBACK_API_KEY'] as const).filter((k) => c[k]);
  if (!c.MODEL_FALLBACK_NAME && fallbackSettings.length > 0)
    problems.push(`MODEL_FALLBACK_NAME: required with ${fallbackSettings.join(', ')} (it names the fallback model and turns the fallback on)`);
  problems.push(...choiceEndpointProblems(c, main, fallback));
  if (c.NODE_ENV === 'production' && !c.QUORUM_ENCRYPTION_KEY) problems.push('QUORUM_ENCRYPTION_KEY: required when NODE_ENV is production');
  const slackOAuth = [c.SLACK_CLIENT_ID, c.SLACK_CLIENT_SECRET, c.SLACK_STATE_SECRET].filter(Boolean).length;
  if (slackOAuth > 0 && slackOAuth < 3)
    problems.push('SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET: set all three for multi-workspace installs');
  if ((c.SLACK_BOT_TOKEN || slackOAuth === 3) && !c.SLACK_SIGNING_SECRET && !c.SLACK_APP_TOKEN)
    problems.push('SLACK_SIGNING_SECRET: required to verify Slack requests');
  // Production has no console: with no platform nothing could ever reach Quorum (it used to start and answer 404).
  if (c.NODE_ENV === 'production' && !c.SLACK_BOT_TOKEN && slackOAuth < 3 && !c.MICROSOFT_APP_ID)
    problems.push(
      'no platform is configured: NODE_ENV is production (no console), so set Slack (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET) or Teams (MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD)',
    );
  if (c.NODE_ENV === 'production' && c.PUBLIC_URL?.startsWith('http:'))
    problems.push('PUBLIC_URL: must start with https:// when NODE_ENV is production (browsers bring sign-in codes to it)');
  if (c.MICROSOFT_APP_ID && !c.MICROSOFT_APP_PASSWORD && c.MICROSOFT_APP_TYPE !== 'UserAssignedMSI')
    problems.push('MICROSOFT_APP_PASSWORD: required with MICROSOFT_APP_ID');
  if (c.MICROSOFT_APP_ID && c.MICROSOFT_APP_TYPE === 'SingleTenant' && !c.MICROSOFT_APP_TENANT_ID)
    problems.push('MICROSOFT_APP_TENANT_ID: required for a SingleTenant bot');
  return problems;
}

/** Where a model lives: its provider and, for openai and anthropic, the endpoint and key. */
export interface ModelEndpoint {
  provider: ModelProviderName;
  baseUrl: string | undefined;
  apiKey: string | undefined;
}

export type ModelProviderName = (typeof modelProviders)[number];

type EndpointFields = Partial<
  Record<'MODEL_BASE_URL' | 'MODEL_API_KEY' | 'MODEL_FALLBACK_NAME' | 'MODEL_FALLBACK_BASE_URL' | 'MODEL_FALLBACK_API_KEY', string | undefined> &
    Record<'MODEL_PROVIDER' | 'MODEL_FALLBACK_PROVIDER', string | undefined>
>;

/** The main model's endpoint (MODEL_PROVIDER, MODEL_BASE_URL, MODEL_API_KEY). */
export function mainEndpoint(c: EndpointFields): ModelEndpoint {
  return { provider: (c.MODEL_PROVIDER ?? 'offline') as ModelProviderName, baseUrl: c.MODEL_BASE_URL, apiKey: c.MODEL_API_KEY };
}

/**
 * The fallback model's endpoint, defaults applied, or null when MODEL_FALLBACK_NAME is unset.
 * The main's base URL and key carry over only to a fallback of the same provider: a key is never
 * sent to another provider.
 */
export function fallbackEndpoint(c: EndpointFields): ModelEndpoint | null {
  if (!c.MODEL_FALLBACK_NAME) return null;
  const main = mainEndpoint(c);
  const provider = (c.MODEL_FALLBACK_PROVIDER ?? main.provider) as ModelProviderName;
  const same = provider === main.provider;
  return {
    provider,
    baseUrl: c.MODEL_FALLBACK_BASE_URL ?? (same ? main.baseUrl : undefined),
    apiKey: c.MODEL_FALLBACK_API_KEY ?? (same ? main.apiKey : undefined),
  };
}

export function sameEndpoint(a: ModelEndpoint, b: ModelEndpoint): boolean {
  return a.provider === b.provider && a.baseUrl === b.baseUrl && a.apiKey === b.apiKey;
}

/** Each chosen model must live on an endpoint Quorum has: the main one or the fallback's. */
function choiceEndpointProblems(c: Partial<Record<keyof Config, string>>, main: ModelEndpoint, fallback: ModelEndpoint | null): string[] {
  if (!c.MODEL_CHOICES) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(c.MODEL_CHOICES);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry: unknown, i) => {
    const provider = (entry as { provider?: unknown } | null)?.provider;
    if (typeof provider !== 'string' || !(modelProviders as readonly string[]).includes(provider)) return [];
    if (provider === main.provider || provider === fallback?.provider) return [];
    return [`MODEL_CHOICES: entry ${i + 1}: provider ${provider} has no endpoint (set MODEL_PROVIDER or MODEL_FALLBACK_PROVIDER to it, with its key)`];
  });
}

function endpointProblems(endpoint: ModelEndpoint, when: string, prefix: 'MODEL_' | 'MODEL_FALLBACK_'): string[] {
  if (endpoint.provider === 'anthropic' && !endpoint.apiKey) return [`${prefix}API_KEY: required when ${when} anthropic`];
  if (endpoint.provider === 'openai' && !endpoint.baseUrl && !endpoint.apiKey)
    return [`${prefix}API_KEY: required for the OpenAI API (or set ${prefix}BASE_URL for a local OpenAI-compatible server)`];
  return [];
}

// Messages are built from the issue's kind only: zod's own messages can quote the received value.
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'url' ? 'must be a URL' : `must be ${issue.format}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'custom':
      return issue.message;
    default:
      return 'invalid value';
  }
}

export interface ConfigEntry {
  name: string;
  default: string;
  secret: boolean;
  description: string;
}

/** The variables, their defaults and meaning, read from the schema itself (for the README). */
export function describeConfig(): ConfigEntry[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => {
    const description = schema.description ?? '';
    const parsed = (schema as z.ZodType).safeParse(undefined);
    const value = parsed.success && Array.isArray(parsed.data) ? parsed.data.join(',') : parsed.success ? parsed.data : undefined;
    const fallback = value !== undefined ? JSON.stringify(value) : '';
    return {
      name,
      default: name === 'QUORUM_ADMINS' || name === 'MODEL_PRICES' || name === 'MODEL_CHOICES' ? '' : fallback.replace(/^"|"$/g, ''),
      secret: description.startsWith('secret: '),
      description: description.replace(/^secret: /, ''),
    };
  });
}
