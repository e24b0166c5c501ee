/**
 * `/agent …` commands: one grammar for Slack (slash command) and Teams (a message starting
 * with /agent), parsed and answered here so both platforms behave the same.
 */
import { z } from 'zod';
import type { Envelope } from './envelope.js';
import type { Principal, Role, Scope } from './identity.js';
import type { CoreDeps } from './turn.js';

export const USAGE =
  'Usage: /agent help | status | role @user owner|admin|member|guest|clear | agent on|off [#channel] | guests on|off | ' +
  'tools #channel allow|deny NAME | limit rpm N | limit concurrency N | budget tokens N/day | audit [@user] [24h|7d] | ' +
  'retention DAYS|off | forget @user | forget me';

const commandSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('help') }),
  z.object({ name: z.literal('status') }),
]);
export type Command = z.infer<typeof commandSchema>;

export type ParsedCommand = { ok: true; command: Command } | { ok: false; message: string };

/** A message that is a command rather than a question (Teams has no slash commands for bots). */
export function isCommandText(text: string): boolean {
  return /^\s*\/agent\b/i.test(text);
}

/** Strips a leading `/agent` and parses the rest. */
export function parseCommand(text: string): ParsedCommand {
  const words = text.trim().replace(/^\/agent\b/i, '').trim().split(/\s+/).filter(Boolean);
  const [name = 'help'] = words;
  const parsed = commandSchema.safeParse({ name: name.toLowerCase() });
  if (!parsed.success) return { ok: false, message: `Unknown command "${name.slice(0, 40)}". ${USAGE}` };
  return { ok: true, command: parsed.data };
}

export interface CommandContext {
  scope: Scope;
  principal: Principal;
  role: Role;
  envelope: Envelope;
}

/** Runs one command and returns the answer for the caller alone. */
export async function runCommand(deps: CoreDeps, ctx: CommandContext): Promise<string> {
  const parsed = parseCommand(ctx.envelope.text);
  const answer = parsed.ok ? await execute(deps, ctx, parsed.command) : parsed.message;
  await deps.audit.append(ctx.scope, {
    action: 'command',
    outcome: parsed.ok ? 'ok' : 'refused',
    actorPrincipalId: ctx.principal.id,
    channelExternalId: ctx.envelope.channel.id,
    detail: { command: parsed.ok ? parsed.command.name : 'invalid' },
  });
  return answer;
}

async function execute(deps: CoreDeps, ctx: CommandContext, command: Command): Promise<string> {
  switch (command.name) {
    case 'help':
      return USAGE;
    case 'status': {
      const settings = await deps.turns.settings(ctx.scope);
      const limit = (v: number | null) => (v === null ? 'default' : String(v));
      return [
        `Your role: ${ctx.role}`,
        `Model: ${deps.modelName}`,
        `Limits: ${limit(settings.rpm)} requests/min, ${limit(settings.concurrency)} at once, budget ${limit(settings.dailyTokens)} tokens/day`,
      ].join('\n');
    }
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}
