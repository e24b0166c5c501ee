/** Sets a workspace's spend for today, as if it had been used earlier (the budget's day is the database's). */
import { and, eq, sql } from 'drizzle-orm';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import { budgetDays, workspaces } from '../../src/db/schema.js';
import type { TestDatabase } from './db.js';

export async function spentToday(db: TestDatabase, workspace: Pick<WorkspaceRef, 'platform' | 'externalId'>, tokens: number): Promise<void> {
  const [ws] = await db.db
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(and(eq(workspaces.platform, workspace.platform), eq(workspaces.externalId, workspace.externalId)));
  if (!ws) throw new Error(`no workspace ${workspace.platform}:${workspace.externalId} yet`);
  await db.db
    .insert(budgetDays)
    .values({ workspaceId: ws.id, day: sql`current_date`, spentTokens: tokens })
    .onConflictDoUpdate({ target: [budgetDays.workspaceId, budgetDays.day], set: { spentTokens: tokens, warnedAt: null } });
}
