/**
 * `/agent connect|connections|disconnect` and the connected-tool form of `/agent tools`: checked
 * here, carried out by the ConnectionAdmin port (src/tools), every change audited with its old and
 * new value. Nothing a tool returns reaches these: only a person's command changes connections.
 */
import type { CommandName } from '../access/policy.js';
import { linkedStatus } from '../confirm/credentials.js';
import type { Scope } from '../identity.js';
import type { ConnectionInfo } from '../ports.js';
import type { CoreDeps } from '../turn.js';
import type { Command } from './grammar.js';
import type { CommandAnswer, CommandContext } from './run.js';

const NOT_AVAILABLE = 'Connected tools are not available in this installation.';

/** The answer to `/agent connections secret NAME <anything>`: says why, and never repeats what was typed. */
export const SECRET_IN_MESSAGE =
  'Nothing was saved: a secret is never read from a message, and what you typed after the name was not kept. ' +
  'Send /agent connections secret NAME alone and paste the secret into the private dialog it offers. ' +
  'If anyone else could see what you typed, treat that secret as exposed and replace it at its source.';

type ConnectionsAction = Extract<Command, { name: 'connections' }>['action'];

/** Who may run each form: listing is everyone's (each sees whether they linked), the rest is the admins'. */
export function connectionsPolicy(action: ConnectionsAction): CommandName {
  switch (action.kind) {
    case 'list':
    case 'secret_typed':
      return 'connections';
    case 'refresh':
      return 'connections_refresh';
    case 'secret':
      return 'connections_secret';
    case 'results':
      return 'connections_results';
  }
}

/** A secret typed into a message: refused and audited as refused, with nothing of what was typed. */
export async function refuseTypedSecret(deps: CoreDeps, ctx: CommandContext): Promise<string> {
  await deps.audit.append(ctx.scope, {
    action: 'command',
    outcome: 'refused',
    actorPrincipalId: ctx.principal.id,
    channelExternalId: ctx.envelope.channel.id,
    channelKind: ctx.envelope.channel.kind,
    detail: { command: 'connections_secret', reason: 'secret_in_message' },
  });
  return SECRET_IN_MESSAGE;
}

type ConnectionCommand = Extract<Command, { name: 'connect' | 'connections' | 'disconnect' }>;

function actorOf(ctx: CommandContext) {
  return { principalId: ctx.principal.id, channelExternalId: ctx.envelope.channel.id };
}

function line(c: ConnectionInfo, admin: boolean): string {
  const where = admin ? (c.url ?? 'local (stdio)') : c.source === 'file' ? 'declared by the operator' : 'added in chat';
  const state = c.problem ? `not listed: ${c.problem}` : c.refreshedAt ? `${c.tools} tools, listed ${c.refreshedAt.toISOString().slice(0, 16)}Z` : 'not listed yet';
  const results = c.auth === 'per-user' ? ` · results ${c.resultsShared ? 'shared (also offered in channels)' : 'private (offered in DMs only)'}` : '';
  return `• ${c.name} — ${where} · auth ${c.auth}${results} · ${state}`;
}

export async function connectionCommand(deps: CoreDeps, ctx: CommandContext, command: ConnectionCommand): Promise<string | CommandAnswer> {
  const admin = deps.connections;
  if (!admin) return NOT_AVAILABLE;
  const { workspace } = ctx.envelope;
  switch (command.name) {
    case 'connect':
      return admin.connect(ctx.scope, workspace, actorOf(ctx), { name: command.connection, url: command.url, auth: command.auth });
    case 'disconnect':
      return admin.disconnect(ctx.scope, workspace, actorOf(ctx), command.connection);
    case 'connections': {
      const action = command.action;
      switch (action.kind) {
        case 'secret':
          return secretButton(await admin.secretProblem(ctx.scope, workspace, action.connection), action.connection);
        case 'secret_typed':
          return SECRET_IN_MESSAGE;
        case 'results':
          return admin.setResultsShared(ctx.scope, workspace, actorOf(ctx), action.connection, action.shared);
        case 'list':
        case 'refresh':
          return listConnections(deps, ctx, action.kind === 'refresh');
      }
    }
  }
}

/** The private answer with the button that opens the secret dialog (`credentials:secret`, admins only there too). */
function secretButton(problem: string | null, connection: string): string | CommandAnswer {
  if (problem) return `No secret to set: ${problem}`;
  return {
    text: `Set the workspace secret for ${connection} in a private dialog: only you see this, and the secret is stored encrypted and never read from a message.`,
    actions: [{ actionId: 'credentials:secret', label: `Set secret for ${connection}`.slice(0, 75), value: connection, style: 'primary' }],
  };
}

async function listConnections(deps: CoreDeps, ctx: CommandContext, refresh: boolean): Promise<string> {
  const admin = deps.connections!;
  const { workspace } = ctx.envelope;
  const list = refresh ? await admin.refresh(ctx.scope, workspace, ctx.principal.id) : await admin.list(ctx.scope, workspace);
  if (list.length === 0) return 'No tool servers are connected to this workspace. Admins add one with /agent connect NAME URL.';
  const isAdmin = ctx.role === 'admin' || ctx.role === 'owner';
  const mine = await yourAccounts(deps, ctx.scope, ctx.principal.id, list);
  return [`Connected tool servers${refresh ? ' (listed again just now)' : ''}:`, ...list.map((c) => line(c, isAdmin)), ...mine].join('\n');
}

/** Whether this person linked their own account to each per-user connection (nothing when there is none). */
export async function yourAccounts(deps: CoreDeps, scope: Scope, principalId: string, list: readonly ConnectionInfo[]): Promise<string[]> {
  const perUser = list.filter((c) => c.auth === 'per-user').map((c) => c.name);
  if (!deps.toolCredentials || perUser.length === 0) return [];
  return ['Your own accounts:', ...(await linkedStatus(deps.toolCredentials, scope, principalId, perUser)).map((l) => `• ${l}`)];
}

/** `/agent tools #channel|all allow|deny PATTERN [guests]` for connected tools. */
export async function connectedRuleCommand(deps: CoreDeps, ctx: CommandContext, channel: string, rule: ConnectedRuleArgs): Promise<string> {
  if (!deps.connections) return NOT_AVAILABLE;
  const result = await deps.connections.setRule(ctx.scope, actorOf(ctx), { channel, pattern: rule.tool, allowed: rule.allowed, guests: rule.guests });
  const where = channel === '*' ? 'the whole workspace' : `#${channel}`;
  return `Connected tools ${rule.tool} in ${where}: ${result.old} → ${result.new}.`;
}

type ConnectedRuleArgs = Extract<Extract<Command, { name: 'tools' }>['rule'], { kind: 'allow' }>;
