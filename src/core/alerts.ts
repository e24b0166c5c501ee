/**
 * Budget alerts: the model gate calls this sink once per budget and period when spend crosses
 * 80% of a budget (any kind: budgets.ts), and each of the workspace's admins gets a direct message on
 * its platform (PlatformPorts.notify); for a per-user budget, the user who crossed it is told in a
 * direct message of their own too. Admins are the owners and admins Quorum knows (grant,
 * else platform role) and the operator's QUORUM_ADMINS for that workspace, at most
 * MAX_ALERTED_ADMINS. The message holds numbers only, never content. Nothing here throws: a
 * failure is logged and the turn that crossed the line is answered as usual.
 */
import { isOperatorAdmin, type BootstrapAdmin } from './access/roles.js';
import type { AdminStore } from './ports.js';
import { budgetWarningForUserText, budgetWarningText, type BudgetAlert } from './budgets.js';
import type { Platform } from './envelope.js';
import type { Scope } from './identity.js';
import type { BudgetAlertSink, Logger, PlatformPorts } from './ports.js';

/** Bounds one alert's fan-out: the people told, and so the platform calls made in the turn. */
export const MAX_ALERTED_ADMINS = 20;

export interface BudgetAlertDeps {
  admin: Pick<AdminStore, 'adminsOf' | 'workspaceOf' | 'platformUserIds'>;
  /** Read when an alert goes out, so adapters started after the gate are found. */
  platforms: Partial<Record<Platform, PlatformPorts>>;
  bootstrapAdmins?: readonly BootstrapAdmin[] | undefined;
  log: Logger;
  maxAdmins?: number;
}

export function createBudgetAlerts(deps: BudgetAlertDeps): BudgetAlertSink {
  const max = deps.maxAdmins ?? MAX_ALERTED_ADMINS;
  const { log } = deps;

  async function send(scope: Scope, alert: BudgetAlert): Promise<void> {
    const base = { workspace: scope.workspaceId, platform: scope.platform };
    const ports = deps.platforms[scope.platform];
    if (!ports?.notify) {
      log.warn({ event: 'budget_alert.unsupported', ...base }, 'no way to message admins on this platform; budget warning only audited');
      return;
    }
    const workspace = await deps.admin.workspaceOf(scope);
    if (!workspace) return;
    // A user's budget names the user (their platform id), never what they asked; and they are told too.
    const userId = alert.principalId ? (await deps.admin.platformUserIds(scope, [alert.principalId])).get(alert.principalId) : undefined;
    const operators = (deps.bootstrapAdmins ?? []).filter((b) => isOperatorAdmin([b], workspace, b.user)).map((b) => b.user);
    // An admin whose own budget it is gets the personal message only.
    const admins = [...new Set([...operators, ...(await deps.admin.adminsOf(scope, max))])].filter((a) => a !== userId).slice(0, max);
    if (admins.length === 0) log.warn({ event: 'budget_alert.no_admins', ...base }, 'no known admin to tell of the budget warning');
    const text = budgetWarningText(workspace.name ?? `workspace ${workspace.externalId}`, { ...alert, ...(userId ? { userId } : {}) });
    const recipients = admins.map((id) => ({ id, text }));
    if (userId) recipients.push({ id: userId, text: budgetWarningForUserText(alert) });
    if (recipients.length === 0) return;
    const outcomes = await Promise.allSettled(recipients.map((r) => ports.notify!(workspace, r.id, r.text)));
    const counts = { sent: 0, unreachable: 0, failed: 0 };
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') counts[outcome.value]++;
      else {
        counts.failed++;
        const who = recipients[i]!.id === userId ? 'the user' : 'an admin';
        log.warn({ event: 'budget_alert.failed', ...base, err: errorOf(outcome.reason) }, `${who} could not be told of the budget warning`);
      }
    });
    log.info({ event: 'budget_alert.sent', ...base, ...counts, ...(userId ? { user: true } : {}) }, userId ? 'admins and the user told of the budget warning' : 'admins told of the budget warning');
  }

  return {
    async budgetWarning(scope, alert) {
      try {
        await send(scope, alert);
      } catch (err) {
        log.warn({ event: 'budget_alert.failed', workspace: scope.workspaceId, platform: scope.platform, err: errorOf(err) }, 'budget alert not sent');
      }
    },
  };
}

/** The error's code and message (adapters keep both free of content and secrets), bounded. */
function errorOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message.slice(0, 200) : 'unexpected';
  return typeof e?.code === 'string' ? `${e.code}: ${message}` : message;
}
