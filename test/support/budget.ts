/** Sets a workspace's spend for today (or one user's, by platform user id), as if it had been used earlier (the budget's day is the UTC day). */
import { and, eq } from 'drizzle-orm';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import { budgetCounters, principals, workspaces } from '../../src/db/schema.js';
import { periodsOf } from '../../src/db/usage-ledger.js';
import type { TestDatabase } from './db.js';

export async function spentToday(db: TestDatabase, workspace: Pick<WorkspaceRef, 'platform' | 'externalId'>, tokens: number, user?: string): Promise<void> {
  const [ws] = await db.db
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(and(eq(workspaces.platform, workspace.platform), eq(workspaces.externalId, workspace.externalId)));
  if (!ws) throw new Error(`no workspace ${workspace.platform}:${workspace.externalId} yet`);
  let subject = '';
  if (user) {
    const [who] = await db.db.select({ id: principals.id }).from(principals).where(and(eq(principals.workspaceId, ws.id), eq(principals.platformUserId, user)));
    if (!who) throw new Error(`no principal ${user} yet`);
    subject = who.id;
  }
  const period = periodsOf(new Date()).day;
  await db.db
    .insert(budgetCounters)
    .values({ workspaceId: ws.id, subject, period, spentTokens: tokens })
    .onConflictDoUpdate({ target: [budgetCounters.workspaceId, budgetCounters.subject, budgetCounters.period], set: { spentTokens: tokens, warnedTokensAt: null } });
}
