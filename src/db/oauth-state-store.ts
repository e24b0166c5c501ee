/**
 * Sign-ins through a connection's OAuth (MCP authorization) on drizzle: a started sign-in is kept
 * under the SHA-256 of its state (the state itself travels only in the authorization URL), sealed
 * like the platform tokens, taken once with one DELETE … RETURNING, and expires. Quorum's client
 * registration at each connection's authorization server is sealed too (it may hold a secret).
 */
import { createHash } from 'node:crypto';
import { and, eq, gt, lte } from 'drizzle-orm';
import type { OAuthStateStore } from '../core/ports.js';
import type { SecretBox } from '../secrets.js';
import type { Db } from './client.js';
import { workspaces } from './schema.js';
import { toolOauthClients, toolOauthStates } from './schema-tools.js';
import { scopeOf } from './turn-store.js';

const hashOf = (state: string) => createHash('sha256').update(state).digest('hex');

export function createOAuthStateStore(db: Db, secrets: SecretBox): OAuthStateStore {
  return {
    async put({ scope, principalId, connection, payload, state, expiresAt }) {
      await db.delete(toolOauthStates).where(and(eq(toolOauthStates.workspaceId, scope.workspaceId), lte(toolOauthStates.expiresAt, new Date())));
      await db.insert(toolOauthStates).values({ stateHash: hashOf(state), workspaceId: scope.workspaceId, principalId, connection, sealed: secrets.seal(payload), expiresAt });
    },
    async take(state, now) {
      const [row] = await db
        .delete(toolOauthStates)
        .where(and(eq(toolOauthStates.stateHash, hashOf(state)), gt(toolOauthStates.expiresAt, now)))
        .returning();
      if (!row) return null;
      const [ws] = await db.select({ id: workspaces.id, platform: workspaces.platform, externalId: workspaces.externalId }).from(workspaces).where(eq(workspaces.id, row.workspaceId));
      if (!ws) return null;
      return {
        scope: scopeOf(ws),
        workspace: { platform: ws.platform, externalId: ws.externalId },
        principalId: row.principalId,
        connection: row.connection,
        payload: secrets.open(row.sealed),
      };
    },
    async client(scope, connection) {
      const [row] = await db
        .select({ sealed: toolOauthClients.sealed })
        .from(toolOauthClients)
        .where(and(eq(toolOauthClients.workspaceId, scope.workspaceId), eq(toolOauthClients.connection, connection)));
      return row ? secrets.open(row.sealed) : null;
    },
    async saveClient(scope, connection, registration) {
      const sealed = secrets.seal(registration);
      await db
        .insert(toolOauthClients)
        .values({ workspaceId: scope.workspaceId, connection, sealed })
        .onConflictDoUpdate({ target: [toolOauthClients.workspaceId, toolOauthClients.connection], set: { sealed, updatedAt: new Date() } });
    },
  };
}
