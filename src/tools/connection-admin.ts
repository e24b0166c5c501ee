/**
 * `/agent connect|disconnect|connections` behind the core's ConnectionAdmin port. A chat-added
 * connection is remote only, its URL checked (https; the address the probe actually connected to
 * is checked too), and its tools listed before anything is stored: a server that cannot be
 * reached is refused and nothing changes. Declared connections are the operator's: chat can
 * neither shadow nor remove them.
 */
import type { WorkspaceRef } from '../core/envelope.js';
import type { Scope } from '../core/identity.js';
import type { ConnectionAdmin, ConnectionInfo, ToolConnectionStore } from '../core/ports.js';
import { chatUrlProblem } from './network-guard.js';
import { problemOf, type ConnectedToolsService } from './connected-tools.js';

export function createConnectionAdmin(tools: ConnectedToolsService, store: ToolConnectionStore, production: boolean): ConnectionAdmin {
  async function list(scope: Scope, workspace: WorkspaceRef): Promise<ConnectionInfo[]> {
    await tools.ensureDeclared(scope, workspace);
    const [connections, all] = await Promise.all([store.connections(scope), store.tools(scope)]);
    return connections.map((c) => ({
      name: c.name,
      url: c.url,
      auth: c.auth,
      source: c.source,
      tools: all.filter((t) => t.connection === c.name).length,
      refreshedAt: c.refreshedAt,
      problem: c.problem,
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

    async refresh(scope, workspace) {
      await tools.ensureDeclared(scope, workspace);
      for (const c of await store.connections(scope)) await tools.discover(scope, workspace, c.name, null);
      return list(scope, workspace);
    },

    async setRule(scope, actor, rule) {
      const result = await store.setRule(scope, actor, rule);
      // Calls decide on cached rules: this instance forgets them now, the others through the bus.
      await tools.rulesChanged(scope);
      return result;
    },
  };
}
