/**
 * ConversationRefStore on the `installations` table: one row per (workspace, key), data in
 * jsonb. The install key is `<workspace external id>|<key>` because the table's unique index
 * is per platform; every query is also scoped by the workspace row it belongs to.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { WorkspaceRef } from '../core/envelope.js';
import type { ConversationRefStore } from '../core/ports.js';
import type { Db } from './client.js';
import { installations, workspaces } from './schema.js';
import { upsertWorkspace } from './turn-store.js';

const installKey = (workspace: WorkspaceRef, key: string) => `${workspace.externalId}|${key}`;

/** The workspace row's id, or null when the workspace was never seen (lookups must not create one). */
function workspaceIdOf(db: Db, workspace: WorkspaceRef) {
  return db
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(and(eq(workspaces.platform, workspace.platform), eq(workspaces.externalId, workspace.externalId)));
}

// Prefix match without LIKE: platform ids contain `_` and `%`-free escaping is error-prone.
const startsWith = (prefix: string) => sql`left(${installations.installKey}, ${prefix.length}) = ${prefix}`;

export function createConversationRefStore(db: Db): ConversationRefStore {
  return {
    async save(workspace, key, data) {
      const scope = await upsertWorkspace(db, workspace);
      await db
        .insert(installations)
        .values({ workspaceId: scope.workspaceId, platform: workspace.platform, installKey: installKey(workspace, key), data })
        .onConflictDoUpdate({
          target: [installations.platform, installations.installKey],
          set: { data: sql`excluded.data`, workspaceId: sql`excluded.workspace_id`, updatedAt: sql`now()` },
        });
    },

    async load(workspace, key) {
      const [row] = await db
        .select({ data: installations.data })
        .from(installations)
        .where(
          and(
            eq(installations.platform, workspace.platform),
            eq(installations.installKey, installKey(workspace, key)),
            sql`${installations.workspaceId} in ${workspaceIdOf(db, workspace)}`,
          ),
        );
      return row?.data ?? null;
    },

    async has(workspace, prefix) {
      const [row] = await db
        .select({ id: installations.id })
        .from(installations)
        .where(
          and(
            eq(installations.platform, workspace.platform),
            startsWith(installKey(workspace, prefix)),
            sql`${installations.workspaceId} in ${workspaceIdOf(db, workspace)}`,
          ),
        )
        .limit(1);
      return row !== undefined;
    },

    async remove(workspace, prefix) {
      const gone = await db
        .delete(installations)
        .where(
          and(
            eq(installations.platform, workspace.platform),
            startsWith(installKey(workspace, prefix)),
            sql`${installations.workspaceId} in ${workspaceIdOf(db, workspace)}`,
          ),
        )
        .returning({ id: installations.id });
      return gone.length;
    },
  };
}
