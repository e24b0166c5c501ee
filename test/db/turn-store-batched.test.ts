/**
 * The turn store's fast paths against a real database: openTurn's one-statement read answers
 * what the step-by-step reads answer, and turns recorded together (group commit) are each
 * recorded once, in order, with an audit chain that verifies; one bad turn fails alone.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Scope } from '../../src/core/identity.js';
import type { OpenTurnInput, TurnRecord } from '../../src/core/ports.js';
import { conversationKeyOf } from '../../src/core/conversation-key.js';
import { verifyAuditChain } from '../../src/db/audit-store.js';
import { grants, workspaceSettings } from '../../src/db/schema.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { drivers, useTestDatabase } from '../support/db.js';

const turnOf = (conversationId: string, principalId: string, key: string): TurnRecord => ({
  conversationId,
  principalId,
  idempotencyKey: key,
  channelExternalId: 'C0BATCH001',
  channelKind: 'channel',
  userText: `question ${key}`,
  answerText: `answer ${key}`,
  model: 'offline',
  usage: { inputTokens: 3, outputTokens: 4 },
  latencyMs: 5,
});

describe.each(drivers)('turn store, batched paths (%s)', (driver) => {
  const database = useTestDatabase(driver);

  const input = (over: Partial<OpenTurnInput> = {}): OpenTurnInput => ({
    user: { id: 'U0READER1' },
    facts: { platformRole: 'member', deleted: false },
    channel: { id: 'C0BATCH001', kind: 'channel' },
    threadKey: '1700000000.000100',
    ownedByRequester: false,
    historyLimit: 20,
    ...over,
  });

  const dmInput = (userId: string): OpenTurnInput => {
    const channel = { id: 'D0READER1', kind: 'dm' as const };
    return input({ user: { id: userId }, channel, ...conversationKeyOf({ channel, user: { id: userId }, messageId: 'M1' }) });
  };

  it('reads in one statement what the step-by-step reads give, and writes what is new or changed', async () => {
    const store = createTurnStore(database().db);
    const scope = await store.resolveWorkspace({ platform: 'slack', externalId: `T${randomUUID().slice(0, 8)}` });
    const first = await store.openTurn(scope, input());
    expect(first.history).toEqual([]);
    await store.recordTurn(scope, turnOf(first.conversation.id, first.principal.id, 'Ev1'));
    await store.recordTurn(scope, turnOf(first.conversation.id, first.principal.id, 'Ev2'));
    await database().db.insert(workspaceSettings).values({ workspaceId: scope.workspaceId, dailyTokens: 5_000_000_000, rpm: 7, guestsEnabled: false });
    await database().db.insert(grants).values({ workspaceId: scope.workspaceId, principalId: first.principal.id, role: 'admin' });

    const fast = await store.openTurn(scope, input());
    // The one statement answers what the store's own single reads answer.
    expect(fast.conversation.id).toBe(first.conversation.id);
    expect(fast.principal).toEqual(await store.resolvePrincipal(scope, input().user, input().facts));
    expect(fast.settings).toEqual(await store.settings(scope));
    expect(fast.history).toEqual(await store.listHistory(scope, first.conversation.id, 20));
    expect(fast.principal.grantedRole).toBe('admin');
    expect(fast.settings).toMatchObject({ dailyTokens: 5_000_000_000, rpm: 7, guestsEnabled: false, storeContent: false });
    expect(fast.history.map((m) => `${m.role}:${m.content}`)).toEqual(['user:question Ev1', 'assistant:answer Ev1', 'user:question Ev2', 'assistant:answer Ev2']);
    expect((await store.openTurn(scope, input({ historyLimit: 3 }))).history.map((m) => m.content)).toEqual(['answer Ev1', 'question Ev2', 'answer Ev2']);

    // Changed facts are written; a DM is its owner's own conversation.
    const promoted = await store.openTurn(scope, input({ facts: { platformRole: 'admin', deleted: false, displayName: 'Reader' } }));
    expect(promoted.principal).toMatchObject({ id: first.principal.id, platformRole: 'admin', displayName: 'Reader' });
    const dm = await store.openTurn(scope, dmInput('U0READER1'));
    expect(dm.conversation).toMatchObject({ kind: 'dm', ownerPrincipalId: first.principal.id });
    await store.recordTurn(scope, turnOf(dm.conversation.id, first.principal.id, 'EvDM'));
    const dmAgain = await store.openTurn(scope, dmInput('U0READER1'));
    expect(dmAgain.conversation.id).toBe(dm.conversation.id);
    expect(dmAgain.history.map((m) => m.content)).toEqual(['question EvDM', 'answer EvDM']);
    const other = await store.openTurn(scope, dmInput('U0OTHER01'));
    expect(other.conversation.id).not.toBe(dm.conversation.id);
    expect(other.history).toEqual([]);
  });

  it('records turns that finish together once each, in order, and fails only a turn that cannot be written', async () => {
    const store = createTurnStore(database().db);
    const scopes: Scope[] = [];
    for (const team of ['T0GROUPA1', 'T0GROUPB1']) scopes.push(await store.resolveWorkspace({ platform: 'slack', externalId: `${team}${driver}` }));
    const opened = await Promise.all(scopes.map((scope) => store.openTurn(scope, input())));
    const calls = Array.from({ length: 40 }, (_, i) => {
      const w = i % 2;
      // Ev0 twice: a re-run arriving with the first run is recorded once.
      const key = i === 39 ? 'Ev0' : `Ev${i}`;
      return store.recordTurn(scopes[i === 39 ? 0 : w]!, turnOf(opened[i === 39 ? 0 : w]!.conversation.id, opened[i === 39 ? 0 : w]!.principal.id, key));
    });
    // A conversation that does not exist breaks a foreign key: its caller alone gets the error.
    const broken = store.recordTurn(scopes[0]!, turnOf(randomUUID(), opened[0]!.principal.id, 'EvBROKEN'));
    const results = await Promise.allSettled([...calls, broken]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results.at(-1)?.status).toBe('rejected');

    const history = await store.listHistory(scopes[0]!, opened[0]!.conversation.id, 100);
    const expected = Array.from({ length: 39 }, (_, i) => i)
      .filter((i) => i % 2 === 0)
      .flatMap((i) => [`question Ev${i}`, `answer Ev${i}`]);
    expect(history.map((m) => m.content)).toEqual(expected);
    for (const scope of scopes) {
      const chain = await verifyAuditChain(database().db, scope);
      expect(chain).toEqual({ ok: true, entries: scope === scopes[0] ? 20 : 19 });
    }
  });
});
