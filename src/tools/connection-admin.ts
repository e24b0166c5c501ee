/**
 * `/agent connect|disconnect|connections` behind the core's ConnectionAdmin port. A chat-added
 * connection is remote only, its URL checked (https; the address the probe actually connected to
 * is checked too), and its tools listed before anything is stored: a server that cannot be
 * reached is refused and nothing changes. Declared connections are the operator's: chat can
 * neither shadow nor remove them.
 */
import type { WorkspaceRef } from '../core/envelope.js';
import type { Scope } from '../core/identity.js';
import type { ConnectionAdmin, ConnectionInfo, StoredConnection, ToolConnectionStore } from '../core/ports.js';
import { chatUrlProblem } from './network-guard.js';
import type { ConnectedToolsService } from './connected-tools.js';
import { problemOf } from './problem.js';

export function createConnectionAdmin(tools: ConnectedToolsService, store: ToolConnectionStore, production: boolean): ConnectionAdmin {
  async function list(scope: Scope, workspace: WorkspaceRef): Promise<ConnectionInfo[]> {
    await tools.ensureDeclared(scope, workspace);
    const [connections, all] = await Promise.all([store.connections(scope), store.tools(scope)]);
    const declared = new Map(tools.declaredIn(workspace).map((d) => [d.name, d.resultsShared]));
    return connections.map((c) => ({
      name: c.name,
      url: c.url,
      auth: c.auth,
      source: c.source,
      tools: all.filter((t) => t.connection === c.name).length,
      refreshedAt: c.refreshedAt,
      problem: c.problem,
      // The operator's file decides for its own connections (the catalog reads it the same way).
      resultsShared: declared.get(c.name) ?? c.resultsShared,
    }));
  }

  return {
    list,

    async connect(scope, workspace, actor, input) {
      if (tools.declaredIn(workspace).some((d) => d.name === input.name))
        return `${input.name} is a connection the operator declared; choose another name.`;
      const problem = chatUrlProblem(input.url, production);
      if (problem) return `Not connected: ${problem}`;
      if ((await store.connections(scope)).some((c) => c.name === input.name)) return `A connection named ${input.name} already exists; disconnect it first.`;
      // Without credentials a server can only be listed once they are set; an open one is checked now.
      let found: Awaited<ReturnType<typeof tools.probe>> | null = null;
      if (input.auth === 'none') {
        try {
          found = await tools.probe(input.url);
        } catch (err) {
          return `Not connected: the server could not be reached or did not speak MCP (${problemOf(err)}).`;
        }
      }
      if (!(await store.addConnection(scope, actor, input))) return `A connection named ${input.name} already exists; disconnect it first.`;
      if (found) {
        await store.saveDiscovery(scope, input.name, { tools: found });
        return `Connected ${input.name} (${found.length} tools: ${found.map((t) => `${input.name}.${t.name}`).slice(0, 10).join(', ') || 'none'}). Its tools are off until you allow them: /agent tools #channel|all allow ${input.name}.*`;
      }
      await store.saveDiscovery(scope, input.name, { problem: 'waiting for credentials' });
      return `Connected ${input.name} (auth ${input.auth}); its tools are listed once credentials are set. They are off until you allow them: /agent tools #channel|all allow ${input.name}.*`;
    },

    async disconnect(scope, workspace, actor, name) {
      if (tools.declaredIn(workspace).some((d) => d.name === name)) return `${name} is declared by the operator of this installation and cannot be removed from chat.`;
      if (!(await store.removeConnection(scope, actor, name))) return `No connection named ${name}.`;
      await tools.closeConnection(scope, name);
      return `Disconnected ${name}: its tools are gone from this workspace (rules naming them stay until changed).`;
    },

    async refresh(scope, workspace, principalId) {
      await tools.ensureDeclared(scope, workspace);
      // A workspace secret is read through someone's call (it is the workspace's, whoever asks); a per-user server is not listed with the admin's own account.
      for (const c of await store.connections(scope)) await tools.discover(scope, workspace, c.name, c.auth === 'workspace' ? (principalId ?? null) : null);
      return list(scope, workspace);
    },

    async setRule(scope, actor, rule) {
      const result = await store.setRule(scope, actor, rule);
      // Calls decide on cached rules: this instance forgets them now, the others through the bus.
      await tools.rulesChanged(scope);
      return result;
    },

    ...connectionSettings(tools, store),
  };
}

/** The chat-added connection of that name, or why an admin cannot change it from chat. */
async function chatConnection(tools: ConnectedToolsService, store: ToolConnectionStore, scope: Scope, workspace: WorkspaceRef, name: string): Promise<{ found: StoredConnection } | { problem: string }> {
  if (tools.declaredIn(workspace).some((d) => d.name === name)) return { problem: `${name} is declared by the operator of this installation; its settings and credential are in the tools file.` };
  const found = (await store.connections(scope)).find((c) => c.name === name);
  return found ? { found } : { problem: `No connection named ${name}.` };
}

/** What admins set on a chat connection after adding it: whether its results are shared, its workspace secret. */
function connectionSettings(tools: ConnectedToolsService, store: ToolConnectionStore): Pick<ConnectionAdmin, 'setResultsShared' | 'secretProblem' | 'linkOffer' | 'discoverWithSecret'> {
  return {
    async setResultsShared(scope, workspace, actor, name, shared) {
      const c = await chatConnection(tools, store, scope, workspace, name);
      if ('problem' in c) return `Nothing changed: ${c.problem}`;
      if (c.found.auth !== 'per-user')
        return `Nothing changed: ${name} does not use each person's own account (auth ${c.found.auth}), so its results may already be used in the conversation they are asked for in.`;
      const result = await store.setResultsShared(scope, actor, name, shared);
      if (!result) return `No connection named ${name}.`;
      const label = (v: boolean) => (v ? 'shared' : 'private');
      const what = shared
        ? `its tools are offered in channels and group chats too, and everyone there reads what they return for the person who asked.`
        : `its tools are offered only in each person's DM with the agent.`;
      return `Results of ${name}: ${label(result.old)} → ${label(result.new)}; ${what}`;
    },

    async secretProblem(scope, workspace, name) {
      const c = await chatConnection(tools, store, scope, workspace, name);
      if ('problem' in c) return c.problem;
      if (c.found.auth !== 'workspace')
        return c.found.auth === 'per-user'
          ? `${name} uses each person's own account: each person links theirs with /agent connections link ${name}.`
          : `${name} needs no credential (auth none).`;
      return null;
    },

    async linkOffer(scope, workspace, name, principalId) {
      await tools.ensureDeclared(scope, workspace);
      const found = (await store.connections(scope)).find((c) => c.name === name);
      if (!found) return { problem: `no connection named ${name}.` };
      if (found.auth !== 'per-user') return { problem: `${name} does not use each person's own account (auth ${found.auth}): there is nothing of yours to link.` };
      return { signInUrl: await tools.signInUrl(scope, workspace, name, principalId) };
    },

    async discoverWithSecret(scope, workspace, principalId, name) {
      const c = await chatConnection(tools, store, scope, workspace, name);
      if ('problem' in c) return `It is not used: ${c.problem}`;
      if (c.found.auth !== 'workspace') return `It is not used: ${name} does not authenticate as the workspace (auth ${c.found.auth}).`;
      // Sessions opened with the old secret go; the admin's call reads the workspace secret (never their own).
      await tools.closeConnection(scope, name);
      const found = await tools.discover(scope, workspace, name, principalId);
      if (!Array.isArray(found)) return `Its tools could not be listed with it: ${found.problem}.`;
      return `${found.length} tools listed with it (${found.map((t) => `${name}.${t.name}`).slice(0, 10).join(', ') || 'none'}); they are off until allowed: /agent tools #channel|all allow ${name}.*`;
    },
  };
}
