/**
 * The admins' connected-tool rules of each workspace, kept in memory. Every connected call is
 * decided again at call time, and reading the rules from the database for each call was most of
 * what governance added to a call. A change applies at once on the instance that made it and,
 * through the invalidation bus (`tool_rules`), on every other; the TTL bounds how long an
 * instance that missed a bus message (a send that failed) keeps the old rules.
 */
import type { Scope } from '../core/identity.js';
import type { ConnectedToolRule, InvalidationBus } from '../core/ports.js';

export interface RulesCacheOptions {
  ttlMs: number;
  /** Workspaces kept at once; the least recently read goes first. */
  maxWorkspaces: number;
}

export interface RulesCache {
  /** Every stored rule of the workspace (all channels and '*'). */
  of(scope: Scope): Promise<ConnectedToolRule[]>;
  /** Forgets a workspace's rules here and tells the other instances (after the change committed). */
  changed(scope: Scope): Promise<void>;
  /** Applies the bus's messages: `tool_rules` forgets one workspace; a reconnect or an uninstall forgets all. */
  listen(bus: InvalidationBus): () => void;
}

export function createRulesCache(load: (scope: Scope) => Promise<ConnectedToolRule[]>, options: RulesCacheOptions): RulesCache {
  // The load itself is kept (not only its result): concurrent calls of one workspace read once.
  const entries = new Map<string, { rules: Promise<ConnectedToolRule[]>; at: number }>();
  let bus: InvalidationBus | null = null;

  const forget = (workspaceId: string) => entries.delete(workspaceId);

  return {
    of(scope) {
      const hit = entries.get(scope.workspaceId);
      if (hit && Date.now() - hit.at < options.ttlMs) {
        // Most recently read last: Map keeps insertion order, so the first key is the one to drop.
        entries.delete(scope.workspaceId);
        entries.set(scope.workspaceId, hit);
        return hit.rules;
      }
      const entry = { rules: load(scope), at: Date.now() };
      entries.delete(scope.workspaceId);
      while (entries.size >= options.maxWorkspaces) entries.delete(entries.keys().next().value as string);
      entries.set(scope.workspaceId, entry);
      // A failed read is not kept; an invalidation during the read removed the entry, so its answer is used once, not kept.
      entry.rules.catch(() => {
        if (entries.get(scope.workspaceId) === entry) forget(scope.workspaceId);
      });
      return entry.rules;
    },

    async changed(scope) {
      forget(scope.workspaceId);
      await bus?.publish({ kind: 'tool_rules', workspaceId: scope.workspaceId });
    },

    listen(b) {
      bus = b;
      const unsubscribe = b.subscribe((message) => {
        if (message.kind === 'tool_rules') forget(message.workspaceId);
        else if (message.kind === 'all' || message.kind === 'workspace') entries.clear();
      });
      return () => {
        unsubscribe();
        if (bus === b) bus = null;
      };
    },
  };
}
