/** ToolConnectionStore on drizzle: connections, their discovered tools and the connected-tool rules; admin changes audited in their transaction. */
import { and, eq, inArray } from 'drizzle-orm';
import type { ConnectedTool, ConnectedToolRule, ToolConnectionStore } from '../core/ports.js';
import type { Scope } from '../core/identity.js';
import type { Db } from './client.js';
import { signerOf } from './audit-signing.js';
import { appendAudit } from './audit-store.js';
import { connectedToolRules, connectionTools, toolConnections, toolCredentials, toolOauthClients, toolOauthStates } from './schema-tools.js';

const ruleLabel = (r: { allowed: boolean; guests: boolean } | undefined) => (r === undefined ? 'none' : r.allowed ? (r.guests ? 'allow (guests too)' : 'allow') : 'deny');

const ruleOf = (r: typeof connectedToolRules.$inferSelect): ConnectedToolRule => ({ channel: r.channelExternalId, pattern: r.pattern, allowed: r.allowed, guests: r.guests });

export function createToolConnectionStore(db: Db): ToolConnectionStore {
  const inWorkspace = (scope: Scope) => eq(toolConnections.workspaceId, scope.workspaceId);
  return {
    async connections(scope) {
      const rows = await db.select().from(toolConnections).where(inWorkspace(scope)).orderBy(toolConnections.name);
      return rows.map((r) => ({ name: r.name, url: r.url, auth: r.auth, source: r.source, resultsShared: r.resultsShared, refreshedAt: r.refreshedAt, problem: r.problem }));
    },

    async tools(scope) {
      const rows = await db
        .select({ tool: connectionTools, connection: toolConnections })
        .from(connectionTools)
        .innerJoin(toolConnections, eq(toolConnections.id, connectionTools.connectionId))
        .where(and(eq(connectionTools.workspaceId, scope.workspaceId), inWorkspace(scope)))
        .orderBy(toolConnections.name, connectionTools.name);
      return rows.map(({ tool, connection }): ConnectedTool => ({
        name: `${connection.name}.${tool.name}`,
        connection: connection.name,
        tool: tool.name,
        description: tool.description,
        inputSchema: tool.inputSchema,
        readOnly: tool.readOnly,
        auth: connection.auth,
        resultsShared: connection.resultsShared,
      }));
    },

    async ensureFileConnection(scope, c) {
      await db
        .insert(toolConnections)
        .values({ workspaceId: scope.workspaceId, name: c.name, url: c.url, auth: c.auth, source: 'file' })
        .onConflictDoUpdate({ target: [toolConnections.workspaceId, toolConnections.name], set: { url: c.url, auth: c.auth, source: 'file' } });
    },

    async addConnection(scope, actor, c) {
      return db.transaction(async (tx) => {
        const inserted = await tx
          .insert(toolConnections)
          .values({ workspaceId: scope.workspaceId, name: c.name, url: c.url, auth: c.auth, source: 'chat' })
          .onConflictDoNothing()
          .returning({ id: toolConnections.id });
        if (inserted.length === 0) return false;
        await appendAudit(tx, scope, {
          action: 'admin_change',
          outcome: 'ok',
          actorPrincipalId: actor.principalId,
          channelExternalId: actor.channelExternalId,
          detail: { setting: `connection:${c.name}`, old: 'none', new: `${c.url} (auth ${c.auth})` },
        }, signerOf(db));
        return true;
      });
    },

    async removeConnection(scope, actor, name) {
      return db.transaction(async (tx) => {
        const removed = await tx
          .delete(toolConnections)
          .where(and(inWorkspace(scope), eq(toolConnections.name, name), eq(toolConnections.source, 'chat')))
          .returning({ url: toolConnections.url, auth: toolConnections.auth });
        const row = removed[0];
        if (!row) return false;
        // Its credentials were for that server: a later connection of the same name (maybe another server) starts unlinked.
        for (const t of [toolCredentials, toolOauthStates, toolOauthClients]) await tx.delete(t).where(and(eq(t.workspaceId, scope.workspaceId), eq(t.connection, name)));
        await appendAudit(tx, scope, {
          action: 'admin_change',
          outcome: 'ok',
          actorPrincipalId: actor.principalId,
          channelExternalId: actor.channelExternalId,
          detail: { setting: `connection:${name}`, old: `${row.url} (auth ${row.auth})`, new: 'none' },
        }, signerOf(db));
        return true;
      });
    },

    async saveDiscovery(scope, name, found) {
      await db.transaction(async (tx) => {
        const [connection] = await tx
          .select({ id: toolConnections.id })
          .from(toolConnections)
          .where(and(inWorkspace(scope), eq(toolConnections.name, name)))
          .for('update');
        if (!connection) return;
        if ('problem' in found) {
          await tx.update(toolConnections).set({ problem: found.problem.slice(0, 300) }).where(eq(toolConnections.id, connection.id));
          return;
        }
        await tx.delete(connectionTools).where(and(eq(connectionTools.workspaceId, scope.workspaceId), eq(connectionTools.connectionId, connection.id)));
        if (found.tools.length > 0)
          await tx.insert(connectionTools).values(found.tools.map((t) => ({ ...t, connectionId: connection.id, workspaceId: scope.workspaceId })));
        await tx.update(toolConnections).set({ problem: null, refreshedAt: new Date() }).where(eq(toolConnections.id, connection.id));
      });
    },

    async setResultsShared(scope, actor, name, shared) {
      return db.transaction(async (tx) => {
        const where = and(inWorkspace(scope), eq(toolConnections.name, name), eq(toolConnections.source, 'chat'));
        const [before] = await tx.select({ shared: toolConnections.resultsShared }).from(toolConnections).where(where).for('update');
        if (!before) return null;
        await tx.update(toolConnections).set({ resultsShared: shared }).where(where);
        const label = (v: boolean) => (v ? 'shared' : 'private');
        await appendAudit(tx, scope, {
          action: 'admin_change',
          outcome: 'ok',
          actorPrincipalId: actor.principalId,
          channelExternalId: actor.channelExternalId,
          detail: { setting: `connection_results:${name}`, old: label(before.shared), new: label(shared) },
        }, signerOf(db));
        return { old: before.shared, new: shared };
      });
    },

    async rules(scope, channelExternalId) {
      const rows = await db
        .select()
        .from(connectedToolRules)
        .where(and(eq(connectedToolRules.workspaceId, scope.workspaceId), inArray(connectedToolRules.channelExternalId, [channelExternalId, '*'])));
      return rows.map(ruleOf);
    },

    async allRules(scope) {
      const rows = await db.select().from(connectedToolRules).where(eq(connectedToolRules.workspaceId, scope.workspaceId));
      return rows.map(ruleOf);
    },

    async setRule(scope, actor, rule) {
      return db.transaction(async (tx) => {
        const where = and(
          eq(connectedToolRules.workspaceId, scope.workspaceId),
          eq(connectedToolRules.channelExternalId, rule.channel),
          eq(connectedToolRules.pattern, rule.pattern),
        );
        const [before] = await tx.select().from(connectedToolRules).where(where).for('update');
        await tx
          .insert(connectedToolRules)
          .values({ workspaceId: scope.workspaceId, channelExternalId: rule.channel, pattern: rule.pattern, allowed: rule.allowed, guests: rule.guests })
          .onConflictDoUpdate({
            target: [connectedToolRules.workspaceId, connectedToolRules.channelExternalId, connectedToolRules.pattern],
            set: { allowed: rule.allowed, guests: rule.guests, updatedAt: new Date() },
          });
        const result = { old: ruleLabel(before), new: ruleLabel(rule) };
        await appendAudit(tx, scope, {
          action: 'admin_change',
          outcome: 'ok',
          actorPrincipalId: actor.principalId,
          channelExternalId: actor.channelExternalId,
          detail: { setting: `connected_tool:${rule.channel}:${rule.pattern}`, ...result },
        }, signerOf(db));
        return result;
      });
    },
  };
}
