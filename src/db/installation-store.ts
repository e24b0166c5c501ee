/** Platform installations on drizzle: one row per install key, the secret sealed with the SecretBox. */
import { and, eq, sql } from 'drizzle-orm';
import type { WorkspaceRef } from '../core/envelope.js';
import type { InstallationRecords } from '../core/ports.js';
import type { SecretBox } from '../secrets.js';
import type { Db } from './client.js';
import { installations, workspaces } from './schema.js';

/** Upserts the workspace and clears a previous uninstall stamp (a re-install), in one statement. */
async function reinstallWorkspace(db: Db, ref: WorkspaceRef): Promise<string> {
  const [row] = await db
    .insert(workspaces)
    .values({ platform: ref.platform, externalId: ref.externalId, enterpriseId: ref.enterpriseId ?? null })
    .onConflictDoUpdate({ target: [workspaces.platform, workspaces.externalId], set: { uninstalledAt: null } })
    .returning({ id: workspaces.id });
  if (!row) throw new Error('workspace upsert returned no row');
  return row.id;
}

export function createInstallationStore(db: Db, secrets: SecretBox): InstallationRecords {
  return {
    async save({ platform, installKey, workspace, secret, data }) {
      const workspaceId = workspace ? await reinstallWorkspace(db, workspace) : null;
      const sealed = secrets.seal(secret);
      await db
        .insert(installations)
        .values({ platform, installKey, workspaceId, secretData: sealed, data })
        .onConflictDoUpdate({
          target: [installations.platform, installations.installKey],
          set: { secretData: sealed, data, workspaceId, updatedAt: sql`now()` },
        });
    },

    async find(platform, installKey) {
      const [row] = await db
        .select({ secretData: installations.secretData, data: installations.data })
        .from(installations)
        .where(and(eq(installations.platform, platform), eq(installations.installKey, installKey)));
      if (!row?.secretData) return null;
      return { secret: secrets.open(row.secretData), data: row.data };
    },

    async remove(platform, installKey) {
      await db.delete(installations).where(and(eq(installations.platform, platform), eq(installations.installKey, installKey)));
    },

    async markUninstalled(ref) {
      await db
        .update(workspaces)
        .set({ uninstalledAt: sql`coalesce(${workspaces.uninstalledAt}, now())` })
        .where(and(eq(workspaces.platform, ref.platform), eq(workspaces.externalId, ref.externalId)));
    },
  };
}
