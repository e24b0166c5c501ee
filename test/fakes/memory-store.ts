/**
 * In-memory TurnStore and AuditLog with the same scoping as src/db, for the isolation bench
 * (20,000 scenarios would take too long on a database; the test runs the real one).
 */
import { randomUUID } from 'node:crypto';
import type { Principal, Scope } from '../../src/core/identity.js';
import type { AuditLog, Conversation, StoredMessage, TurnStore, WorkspaceSettings } from '../../src/core/ports.js';

const defaults: WorkspaceSettings = { storeContent: false, rpm: null, concurrency: null, dailyTokens: null, retentionDays: null, guestsEnabled: true };

export function createMemoryStores(): { turns: TurnStore; audit: AuditLog; entries: () => number } {
  const workspaces = new Map<string, Scope>();
  const principals = new Map<string, Principal>();
  const conversations = new Map<string, Conversation & { workspaceId: string }>();
  type Row = StoredMessage & { workspaceId: string; key: string };
  /** conversation id -> messages; workspace/key -> answer: lookups stay O(1) over 20,000 scenarios. */
  const messages = new Map<string, Row[]>();
  const answers = new Map<string, string>();
  let audits = 0;
  const turns: TurnStore = {
    async resolveWorkspace(ref) {
      const key = `${ref.platform}:${ref.externalId}`;
      let scope = workspaces.get(key);
      if (!scope) workspaces.set(key, (scope = { workspaceId: randomUUID(), platform: ref.platform } as Scope));
      return scope;
    },
    async resolvePrincipal(scope, user, facts) {
      const key = `${scope.workspaceId}/${user.id}`;
      const known = principals.get(key);
      const p: Principal = known
        ? { ...known, platformRole: facts.platformRole }
        : { id: randomUUID(), workspaceId: scope.workspaceId, platformUserId: user.id, displayName: null, platformRole: facts.platformRole, grantedRole: null };
      principals.set(key, p);
      return p;
    },
    async openTurn(scope, input) {
      const principal = await turns.resolvePrincipal(scope, input.user, input.facts);
      const key = `${scope.workspaceId}/${input.channel.id}/${input.threadKey}`;
      let conversation = conversations.get(key);
      if (!conversation) {
        const ownerPrincipalId = input.ownedByRequester ? principal.id : null;
        conversation = { id: randomUUID(), workspaceId: scope.workspaceId, kind: input.channel.kind, channelExternalId: input.channel.id, ownerPrincipalId, agentEnabled: true };
        conversations.set(key, conversation);
      }
      const history = await turns.listHistory(scope, conversation.id, input.historyLimit);
      return { principal, conversation, settings: defaults, history };
    },
    async listHistory(scope, conversationId, limit) {
      return (messages.get(conversationId) ?? []).filter((m) => m.workspaceId === scope.workspaceId).slice(-limit);
    },
    async findAnswer(scope, key) {
      return answers.get(`${scope.workspaceId}/${key}`) ?? null;
    },
    async recordTurn(scope, t) {
      if (answers.has(`${scope.workspaceId}/${t.idempotencyKey}`)) return;
      answers.set(`${scope.workspaceId}/${t.idempotencyKey}`, t.answerText);
      const at = new Date();
      const base = { workspaceId: scope.workspaceId, conversationId: t.conversationId, principalId: t.principalId, key: t.idempotencyKey, createdAt: at };
      const list = messages.get(t.conversationId) ?? [];
      list.push({ ...base, id: randomUUID(), role: 'user', content: t.userText }, { ...base, id: randomUUID(), role: 'assistant', content: t.answerText });
      messages.set(t.conversationId, list);
      audits++;
    },
    async settings() {
      return defaults;
    },
  };
  const audit: AuditLog = {
    async append() {
      audits++;
    },
    async list() {
      return [];
    },
  };
  return { turns, audit, entries: () => audits };
}
