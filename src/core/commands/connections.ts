/**
 * `/agent connect|connections|disconnect` and the connected-tool form of `/agent tools`: checked
 * here, carried out by the ConnectionAdmin port (src/tools), every change audited with its old and
 * new value. Nothing a tool returns reaches these: only a person's command changes connections.
 */
import { linkedStatus } from '../confirm/credentials.js';
import type { Scope } from '../identity.js';
import type { ConnectionInfo } from '../ports.js';
import type { CoreDeps } from '../turn.js';
import type { Command } from './grammar.js';
import type { CommandContext } from './run.js';

const NOT_AVAILABLE = 'Connected tools are not available in this installation.';

type ConnectionCommand = Extract<Command, { name: 'connect' | 'connections' | 'disconnect' }>;

function actorOf(ctx: CommandContext) {
  return { principalId: ctx.principal.id, channelExternalId: ctx.envelope.channel.id };
}

function line(c: ConnectionInfo, admin: boolean): string {
  const where = admin ? (c.url ?? 'local (stdio)') : c.source === 'file' ? 'declared by the operator' : 'added in chat';
  const state = c.problem ? `not listed: ${c.problem}` : c.refreshedAt ? `${c.tools} tools, listed ${c.refreshedAt.toISOString().slice(0, 16)}Z` : 'not listed yet';
  return `• ${c.name} — ${where} · auth ${c.auth} · ${state}`;
}

export async function connectionCommand(deps: CoreDeps, ctx: CommandContext, command: ConnectionCommand): Promise<string> {
  const admin = deps.connections;
  if (!admin) return NOT_AVAILABLE;
  const { workspace } = ctx.envelope;
  switch (command.name) {
    case 'connect':
      return admin.connect(ctx.scope, workspace, actorOf(ctx), { name: command.connection, url: command.url, auth: command.auth });
    case 'disconnect':
      return admin.disconnect(ctx.scope, workspace, actorOf(ctx), command.connection);
    case 'connections': {
      const list = command.refresh ? await admin.refresh(ctx.scope, workspace) : await admin.list(ctx.scope, workspace);
      if (list.length === 0) return 'No tool servers are connected to this workspace. Admins add one with /agent connect NAME URL.';
      const isAdmin = ctx.role === 'admin' || ctx.role === 'owner';
      const mine = await yourAccounts(deps, ctx.scope, ctx.principal.id, list);
      return [`Connected tool servers${command.refresh ? ' (listed again just now)' : ''}:`, ...list.map((c) => line(c, isAdmin)), ...mine].join('\n');
    }
  }
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
