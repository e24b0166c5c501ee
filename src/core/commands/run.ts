/**
 * Runs one parsed `/agent` command for one caller. Every command asks decide() first; a bad
 * argument answers with that command's usage and changes nothing; changes are audited (old and
 * new value) by the AdminStore in the same transaction; answers go to the caller alone.
 */
import type { AdminChange, AdminStore } from '../ports.js';
import { decide, denyExplanation, type CommandName, type Decision } from '../access/policy.js';
import { countPrivileged, isOperatorAdmin, roleOf } from '../access/roles.js';
import type { ChannelRef, Envelope } from '../envelope.js';
import { isQuorumError } from '../errors.js';
import type { Principal, Role, Scope } from '../identity.js';
import type { CoreDeps } from '../turn.js';
import { homeText, homeView } from '../home.js';
import { auditTable, feedbackSummary, knowledgeTable, limitsLine } from './format.js';
import { budgetName, budgetSetting } from '../budgets.js';
import { usageAnswer } from './usage.js';
import { helpFor, helpText, parseCommand, type Command } from './grammar.js';
import { modelHere, runInstructions, runModel } from './profiles.js';
import { exportAudit } from './audit-export.js';
import { connectedRuleCommand, connectionCommand, connectionsPolicy, refuseTypedSecret } from './connections.js';
import { TOOL_NAMES, type ToolName } from '../access/policy.js';
import type { ReplyAction } from '../interactions.js';

export interface CommandContext {
  scope: Scope;
  principal: Principal;
  role: Role;
  envelope: Envelope;
}

/** What the caller alone sees: text, and buttons when the answer offers a next step (a private dialog). */
export interface CommandAnswer {
  text: string;
  actions?: ReplyAction[];
}

const AUDIT_ROWS = 20;
const DAY_MS = 24 * 3_600_000;
const KNOWLEDGE_ROWS = 50;
const WINDOW_MS = { '24h': 24 * 3_600_000, '7d': 7 * 24 * 3_600_000 } as const;

/** `forget @me-myself` is `forget me`: erasing one's own data is anyone's right. */
function policyName(command: Command, self: string): CommandName {
  if (command.name === 'forget') return command.user === null || command.user === self ? 'forget_me' : 'forget_user';
  if (command.name === 'connections') return connectionsPolicy(command.action);
  if (command.name === 'usage') return command.me ? 'usage_me' : 'usage';
  if (command.name === 'model' || command.name === 'instructions') return command.set === null ? `${command.name}_show` : command.name;
  if (command.name === 'audit' && command.exportDays !== null) return 'audit_export';
  return command.name;
}

/** Runs one command and returns the answer for the caller alone. */
export async function runCommand(deps: CoreDeps, ctx: CommandContext): Promise<CommandAnswer> {
  const answer = await runAndAudit(deps, ctx);
  return typeof answer === 'string' ? { text: answer } : answer;
}

async function runAndAudit(deps: CoreDeps, ctx: CommandContext): Promise<string | CommandAnswer> {
  const base = {
    actorPrincipalId: ctx.principal.id,
    channelExternalId: ctx.envelope.channel.id,
    channelKind: ctx.envelope.channel.kind,
  };
  const parsed = parseCommand(ctx.envelope.text);
  if (!parsed.ok) {
    await deps.audit.append(ctx.scope, { ...base, action: 'command', outcome: 'refused', detail: { command: parsed.name ?? 'unknown' } });
    return parsed.message;
  }
  const command = parsed.command;
  // Whoever typed it, a secret in a message is refused before anything else (and was never kept).
  if (command.name === 'connections' && command.action.kind === 'secret_typed') return refuseTypedSecret(deps, ctx);
  const name = policyName(command, ctx.principal.platformUserId);
  const decision = decide(subjectOf(ctx), { kind: 'command', command: name }, { kind: 'workspace', workspaceId: ctx.scope.workspaceId });
  if (!decision.allow) return refuse(deps, ctx, decision, name);

  const outcome = await execute(deps, ctx, command);
  if (typeof outcome !== 'string' && 'allow' in outcome) return refuse(deps, ctx, outcome, name);
  // Changes were audited with their values by the store; reads and refusals are recorded here.
  if (!isChange(command)) await deps.audit.append(ctx.scope, { ...base, action: 'command', outcome: 'ok', detail: { command: name } });
  return outcome;
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const CHANGES: ReadonlySet<Command['name']> = new Set(['role', 'agent', 'guests', 'content', 'tools', 'limit', 'budget', 'retention', 'forget']);
/** `/agent knowledge`, `model` and `instructions` alone read; with an argument they change (audited by the store), as does `connections NAME results`. */
const isChange = (c: Command) =>
  CHANGES.has(c.name) ||
  (c.name === 'connections' && c.action.kind === 'results') ||
  (c.name === 'knowledge' && c.enabled !== null) ||
  ((c.name === 'model' || c.name === 'instructions') && c.set !== null);

function subjectOf(ctx: CommandContext) {
  return { principalId: ctx.principal.id, role: ctx.role, workspaceId: ctx.scope.workspaceId };
}

async function refuse(deps: CoreDeps, ctx: CommandContext, decision: Decision & { allow: false }, name: CommandName): Promise<string> {
  await deps.audit.append(ctx.scope, {
    action: 'denial',
    outcome: 'denied',
    actorPrincipalId: ctx.principal.id,
    channelExternalId: ctx.envelope.channel.id,
    channelKind: ctx.envelope.channel.kind,
    detail: { action: 'command', command: name, reason: decision.reason },
  });
  return denyExplanation[decision.reason];
}

const LOOKUP_FAILED = 'I could not look that user up right now, so nothing changed. Please try again in a minute.';
const NO_STORE = 'Administration is not available in this installation.';

/** A string (or text with buttons) answers the caller; a Decision is a refusal found while running (e.g. a role rule). */
async function execute(deps: CoreDeps, ctx: CommandContext, command: Command): Promise<string | CommandAnswer | (Decision & { allow: false })> {
  if (command.name === 'help') return command.topic === null ? helpText() : helpFor(command.topic);
  if (command.name === 'connect' || command.name === 'connections' || command.name === 'disconnect') return connectionCommand(deps, ctx, command);
  if (command.name === 'tools' && command.rule.kind === 'allow' && !isToolName(command.rule.tool)) return connectedRuleCommand(deps, ctx, command.channel, command.rule);
  const admin = deps.admin;
  if (!admin) return command.name === 'status' ? statusWithout(deps, ctx) : NO_STORE;
  const actor = { principalId: ctx.principal.id, channelExternalId: ctx.envelope.channel.id };
  const change = async (c: AdminChange, label: string) => {
    const r = await admin.apply(ctx.scope, actor, c);
    return `${label}: ${r.old} → ${r.new}.`;
  };
  switch (command.name) {
    case 'status':
      return status(deps, admin, ctx);
    case 'settings':
      return showSettings(deps, ctx);
    case 'role':
      return setRole(deps, admin, ctx, command.user, command.role);
    case 'agent': {
      const channel = command.channel === null ? ctx.envelope.channel : channelRef(ctx, command.channel);
      if (channel.kind === 'dm') return 'Name a channel: /agent agent on|off #channel';
      return change({ kind: 'agent', channel, enabled: command.enabled }, `Agent in ${mention(channel.id)}`);
    }
    case 'guests':
      return change({ kind: 'guests', enabled: command.enabled }, 'Agent for guests and external users');
    case 'content': {
      const answer = await change({ kind: 'content', keep: command.keep }, 'Message content in the audit log');
      return command.keep ? `${answer} Direct and group messages are still stored as hashes only.` : answer;
    }
    case 'tools': {
      const rule = command.rule;
      if (rule.kind === 'confirm') return confirmRule(deps, ctx, command.channel, rule.pattern, rule.mode);
      if (!isToolName(rule.tool)) return `No such tool: ${rule.tool}.`;
      const channel = channelRef(ctx, command.channel);
      return change({ kind: 'tool', channel, tool: rule.tool, allowed: rule.allowed }, `Tool ${rule.tool} in ${mention(channel.id)}`);
    }
    case 'limit':
      return change(
        { kind: 'limit', key: command.key, value: command.value },
        { rpm: 'Requests per minute', concurrency: 'Concurrent model calls', tpm: 'Tokens per minute' }[command.key],
      );
    case 'budget': {
      // `off` clears both periods of the unit: one audited change each.
      const answers: string[] = [];
      for (const period of command.period ? [command.period] : (['day', 'month'] as const)) {
        const kind = { subject: command.subject, period, unit: command.unit };
        answers.push(await change({ kind: 'limit', key: budgetSetting(kind), value: command.amount }, capitalized(budgetName(kind))));
      }
      return answers.join('\n');
    }
    case 'usage':
      return usageAnswer(admin, ctx.scope, ctx.principal.id, command);
    case 'retention':
      return change({ kind: 'limit', key: 'retentionDays', value: command.days }, 'Message retention (days)');
    case 'model':
      return runModel(deps, ctx, command.set);
    case 'instructions':
      return runInstructions(deps, ctx, command.set);
    case 'audit':
      if (command.exportDays !== null) return exportAudit(deps, ctx, command.exportDays);
      return audit(deps, admin, ctx, command.user, command.window);
    case 'feedback':
      return deps.feedback ? feedbackSummary(await deps.feedback.summary(ctx.scope, new Date(Date.now() - command.days * DAY_MS)), command.days) : NO_STORE;
    case 'knowledge': {
      if (command.channel === null || command.enabled === null) return knowledgeStatus(deps, ctx);
      const channel = channelRef(ctx, command.channel);
      if (channel.kind === 'dm') return 'Name a channel: /agent knowledge #channel on|off';
      const answer = await change({ kind: 'knowledge', channel, enabled: command.enabled }, `Knowledge of ${mention(channel.id)}`);
      return command.enabled ? `${answer} Its history will be indexed in the background.` : `${answer} What was indexed from it is deleted.`;
    }
    case 'forget':
      return forget(deps, admin, ctx, command.user);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

/** `/agent tools #channel|all confirm PATTERN always|never`: audited with old and new value by the store. */
async function confirmRule(deps: CoreDeps, ctx: CommandContext, channel: string, pattern: string, mode: 'always' | 'never'): Promise<string> {
  const rules = deps.agent.confirm?.rules;
  if (!rules) return NO_STORE;
  const { old } = await rules.set(ctx.scope, { channelExternalId: channel, pattern, mode }, ctx.principal.id);
  const where = channel === '*' ? 'the whole workspace' : mention(channel);
  return `Confirmation for ${pattern} in ${where}: ${old ?? 'default'} → ${mode}.`;
}

function mention(channelId: string): string {
  return `#${channelId}`;
}

/** The current channel keeps its kind; any other named channel is a channel. */
function channelRef(ctx: CommandContext, id: string): ChannelRef {
  return id === ctx.envelope.channel.id ? ctx.envelope.channel : { id, kind: 'channel' };
}

/** The person's Home: shown on the platform's surface when there is one (a DM, so nobody else sees it), else as text. */
async function showSettings(deps: CoreDeps, ctx: CommandContext): Promise<string> {
  const { workspace, user, channel } = ctx.envelope;
  const surface = deps.platforms[workspace.platform]?.home;
  const view = await homeView(deps, workspace, user);
  const shown = surface ? await surface.show(workspace, user.id, view, channel.kind === 'dm' ? { channel } : undefined) : false;
  return shown ? `Your Quorum settings are ${surface!.where}.` : homeText(view);
}

async function knowledgeStatus(deps: CoreDeps, ctx: CommandContext): Promise<string> {
  const knowledge = deps.agent.knowledge;
  if (!knowledge) return 'Knowledge is off in this installation (KNOWLEDGE=off).';
  return knowledgeTable(await knowledge.status(ctx.scope, KNOWLEDGE_ROWS));
}

async function statusWithout(deps: CoreDeps, ctx: CommandContext): Promise<string> {
  const settings = await deps.turns.settings(ctx.scope);
  return [`Your role: ${ctx.role}`, `Model: ${await modelHere(deps, ctx)}`, `Limits: ${limitsLine(settings, deps.limitDefaults)}`].join('\n');
}

async function status(deps: CoreDeps, admin: AdminStore, ctx: CommandContext): Promise<string> {
  const [first, usage, here] = await Promise.all([
    statusWithout(deps, ctx),
    admin.usageToday(ctx.scope),
    admin.channelState(ctx.scope, ctx.envelope.channel.id),
  ]);
  const settings = await deps.turns.settings(ctx.scope);
  return [
    first,
    `Today: ${usage.calls} calls, ${usage.inputTokens + usage.outputTokens} tokens`,
    `Agent here: ${here.agentEnabled ? 'on' : 'off'} · guests: ${settings.guestsEnabled ? 'on' : 'off'} · retention: ${settings.retentionDays === null ? 'off' : `${settings.retentionDays} days`} · content: ${settings.storeContent ? 'kept' : 'hashed'}`,
  ].join('\n');
}

async function setRole(deps: CoreDeps, admin: AdminStore, ctx: CommandContext, userId: string, to: Role | null) {
  const ws = ctx.envelope.workspace;
  const ports = deps.platforms[ws.platform];
  let facts;
  try {
    facts = ports ? await ports.directory.lookup(ws, { id: userId }) : null;
  } catch (err) {
    if (!isQuorumError(err, 'DIRECTORY_UNAVAILABLE')) throw err;
    return LOOKUP_FAILED;
  }
  if (!facts || facts.deleted) return 'I could not find that user in this workspace, so nothing changed.';
  // A grant is stored per workspace: the target is resolved in the caller's workspace only.
  const target = await deps.turns.resolvePrincipal(ctx.scope, { id: userId }, facts);
  const current = roleOf(target, ws, deps.bootstrapAdmins);
  const next = to ?? roleOf({ ...target, grantedRole: null }, ws, deps.bootstrapAdmins);
  const privileged = await admin.privileged(ctx.scope);
  const roles = new Map(privileged.map((p) => [p.platformUserId, roleOf(p, ws, deps.bootstrapAdmins)]));
  for (const b of deps.bootstrapAdmins ?? []) if (isOperatorAdmin([b], ws, b.user) && !roles.has(b.user)) roles.set(b.user, 'admin');
  const decision = decide(
    subjectOf(ctx),
    { kind: 'set_role', to: next },
    {
      kind: 'principal',
      workspaceId: target.workspaceId,
      principalId: target.id,
      role: current,
      external: target.platformRole === 'external',
      operatorAdmin: isOperatorAdmin(deps.bootstrapAdmins, ws, userId),
      guest: target.platformRole === 'guest',
    },
    countPrivileged(roles.values()),
  );
  if (!decision.allow) return decision;
  const result = await admin.apply(
    ctx.scope,
    { principalId: ctx.principal.id, channelExternalId: ctx.envelope.channel.id },
    { kind: 'role', principalId: target.id, role: to },
  );
  return `Role of @${userId}: ${current} → ${next} (grant ${result.old} → ${result.new}).`;
}

async function audit(deps: CoreDeps, admin: AdminStore, ctx: CommandContext, userId: string | null, window: '24h' | '7d' | null) {
  const read = decide(subjectOf(ctx), { kind: 'read_audit' }, { kind: 'workspace', workspaceId: ctx.scope.workspaceId });
  if (!read.allow) return read;
  let actorPrincipalId: string | undefined;
  if (userId !== null) {
    const target = await admin.findPrincipal(ctx.scope, userId);
    if (!target) return 'No audit entries match.';
    actorPrincipalId = target.id;
  }
  const entries = await deps.audit.list(ctx.scope, {
    limit: AUDIT_ROWS,
    ...(actorPrincipalId ? { actorPrincipalId } : {}),
    ...(window ? { since: new Date(Date.now() - WINDOW_MS[window]) } : {}),
  });
  const ids = [...new Set(entries.map((e) => e.actorPrincipalId).filter((id): id is string => id !== null))];
  return auditTable(entries, await admin.platformUserIds(ctx.scope, ids));
}

async function forget(deps: CoreDeps, admin: AdminStore, ctx: CommandContext, userId: string | null) {
  const self = userId === null || userId === ctx.principal.platformUserId;
  const target = self ? ctx.principal : await admin.findPrincipal(ctx.scope, userId);
  if (!target) return 'Nothing is stored for that user.';
  if (!self) {
    const rank = await currentRole(deps, ctx, target);
    if (!rank.ok) return rank.message;
    const decision = decide(subjectOf(ctx), { kind: 'erase' }, {
      kind: 'principal',
      workspaceId: target.workspaceId,
      principalId: target.id,
      role: rank.role,
      external: target.platformRole === 'external',
      operatorAdmin: isOperatorAdmin(deps.bootstrapAdmins, ctx.envelope.workspace, target.platformUserId),
    });
    if (!decision.allow) return decision;
  }
  const counts = await admin.erase(
    ctx.scope,
    { principalId: target.id, platformUserId: target.platformUserId },
    { principalId: ctx.principal.id, channelExternalId: ctx.envelope.channel.id, self },
  );
  const whose = self ? 'your' : `@${target.platformUserId}'s`;
  return (
    `Deleted ${whose} data: ${counts.messages} messages, ${counts.memories} notes, ${counts.usageRows} usage records, ` +
    `${counts.dmConversations} direct-message conversations, ${counts.inboxRows} queued deliveries, ${counts.knowledgeChunks} knowledge entries, ${counts.toolCredentials} linked tool accounts.`
  );
}

/**
 * The target's role as the platform says now (a stored role may be a promotion behind), with
 * grants; someone the platform no longer knows has no rank. Fails closed when it cannot be asked.
 */
async function currentRole(deps: CoreDeps, ctx: CommandContext, target: Principal): Promise<{ ok: true; role: Role } | { ok: false; message: string }> {
  const ws = ctx.envelope.workspace;
  const ports = deps.platforms[ws.platform];
  let facts;
  try {
    facts = ports ? await ports.directory.lookup(ws, { id: target.platformUserId }) : null;
  } catch (err) {
    if (!isQuorumError(err, 'DIRECTORY_UNAVAILABLE')) throw err;
    return { ok: false, message: LOOKUP_FAILED };
  }
  if (facts?.deleted) return { ok: true, role: 'external' };
  return { ok: true, role: roleOf({ ...target, platformRole: facts?.platformRole ?? target.platformRole }, ws, deps.bootstrapAdmins) };
}

const isToolName = (name: string): name is ToolName => (TOOL_NAMES as readonly string[]).includes(name);
