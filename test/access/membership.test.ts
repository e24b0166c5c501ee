/** Membership-derived access through runTurn on a real database: revocation is immediate, an unreachable platform fails closed. */
import { desc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { webApi } from '@slack/bolt';
import { createMembership } from '../../adapters/slack/people.js';
import { localInvalidationBus } from '../../src/core/invalidation.js';
import type { MembershipSource } from '../../src/core/ports.js';
import { envelopeSchema, type EnvelopeInput } from '../../src/core/envelope.js';
import { runTurn, type CoreDeps } from '../../src/core/turn.js';
import { createAdminStore } from '../../src/db/admin-store.js';
import { createAgentStore } from '../../src/db/agent-store.js';
import { createAuditLog } from '../../src/db/audit-store.js';
import { auditLog } from '../../src/db/schema.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { createLogger } from '../../src/log.js';
import { FakePlatform } from '../fakes/platform.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

describe.each(drivers)('membership decides (%s)', (driver) => {
  let db: TestDatabase;
  let n = 0;
  beforeAll(async () => {
    db = await openTestDatabase(driver);
  });
  afterAll(async () => {
    await db?.close();
  });

  const envelope = (user: string, text: string, threadId = 't1'): ReturnType<typeof envelopeSchema.parse> => {
    const id = `ev-${driver}-${n++}`;
    const input: EnvelopeInput = {
      kind: 'mention',
      idempotencyKey: id,
      workspace: { platform: 'slack', externalId: 'TMEM' },
      user: { id: user },
      channel: { id: 'C1', kind: 'channel' },
      threadId,
      messageId: id,
      text,
      receivedAt: new Date(),
    };
    return envelopeSchema.parse(input);
  };
  function setup(wrap?: (p: FakePlatform) => MembershipSource) {
    const platform = new FakePlatform().join('C1', 'U1', 'U2');
    const model = new RecordingModelGate();
    const deps: CoreDeps = {
      turns: createTurnStore(db.db),
      audit: createAuditLog(db.db),
      admin: createAdminStore(db.db),
      model,
      modelName: 'fake-model',
      platforms: { slack: { ...platform, membership: wrap ? wrap(platform) : platform.membership, directory: platform.directory, replies: platform.replies } },
      log: createLogger('silent'),
      agent: { store: createAgentStore(db.db) },
    };
    return { platform, model, deps };
  }
  const lastAudit = async () => (await db.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1))[0]!;

  it('a member who leaves is refused on the very next turn, and sees nothing of the thread', async () => {
    const { platform, model, deps } = setup();
    await runTurn(deps, envelope('U1', 'before leaving SECRET-A'));
    expect(platform.posted.at(-1)!.reply.kind).toBe('answer');
    platform.members.get('C1')!.delete('U1');
    const calls = model.calls.length;
    await runTurn(deps, envelope('U1', 'after leaving'));
    expect(platform.posted.at(-1)!.reply).toMatchObject({ kind: 'error', private: true, text: 'You need to be a member of this channel to use the agent here.' });
    expect(model.calls.length).toBe(calls);
    expect(await lastAudit()).toMatchObject({ action: 'denial', outcome: 'denied', detail: { reason: 'not_a_member', action: 'talk' } });
    // A remaining member still gets the thread's history.
    await runTurn(deps, envelope('U2', 'still here'));
    expect(model.promptsText().at(-1)).toContain('SECRET-A');
  });

  it("with the Slack adapter's cache in front, a leave told by the invalidation bus takes effect at once", async () => {
    const bus = localInvalidationBus();
    const { platform, model, deps } = setup((p) => {
      // Slack's conversations.members, answered from the fake platform's rosters.
      const client = { conversations: { members: async ({ channel }: { channel: string }) => ({ ok: true, members: [...(p.members.get(channel) ?? [])] }) } };
      const cache = createMembership({ client: client as unknown as webApi.WebClient, tokens: { forWorkspace: async () => ({ token: 't' }), forget() {} }, ttlMs: 3_600_000 });
      bus.subscribe((m) => cache.invalidate(m));
      return cache;
    });
    await runTurn(deps, envelope('U2', 'cached now', 't2'));
    expect(platform.posted.at(-1)!.reply.kind).toBe('answer');
    // The cache still says member (an hour's TTL); only the event can change that.
    platform.members.get('C1')!.delete('U2');
    await bus.publish({ kind: 'members', workspace: { platform: 'slack', externalId: 'TMEM' }, channelId: 'C1', added: [], removed: ['U2'] });
    const calls = model.calls.length;
    await runTurn(deps, envelope('U2', 'after the leave event', 't2'));
    expect(platform.posted.at(-1)!.reply.kind).toBe('error');
    expect(model.calls.length).toBe(calls);
  });

  it('fails closed when the platform cannot be asked', async () => {
    const { platform, model, deps } = setup();
    platform.membershipDown = true;
    await runTurn(deps, envelope('U1', 'are you there'));
    expect(platform.posted.at(-1)!.reply).toMatchObject({ kind: 'error', text: expect.stringContaining('could not confirm your access') });
    expect(model.calls).toHaveLength(0);
    expect(await lastAudit()).toMatchObject({ action: 'denial', detail: { reason: 'membership_unknown' } });
  });
});
