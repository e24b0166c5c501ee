/**
 * Knowledge from Slack through signed events to /slack/events, a real database and the fake Slack
 * Web API: channel messages are indexed without being answered; edits and deletions change the
 * index; search_history finds knowledge with a citation to the right message, only where the
 * audience rule and live membership allow it; `forget me` removes a person's entries.
 */
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { createKnowledgeStore } from '../../src/db/knowledge-store.js';
import { inbox, workspaces } from '../../src/db/schema.js';
import { answer, ScriptedAgentGate } from '../fakes/scripted-agent-model.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, postSlack, useSlackApp } from '../slack/support.js';
import { ADMIN, BOT, chunks, command, eventBody, MEMBER, messageEvent, OWNER, post } from './support.js';

const GEN = 'C0KNGEN001';
const PRIV = 'C0KNPRV001';
const DM_MEMBER = 'D0ACMEDM01';
const DM_OWNER = 'D0ACMEDM02';

describe.each(drivers)('knowledge from Slack (%s)', (driver) => {
  let query = 'canary';
  const gate = new ScriptedAgentGate((step, _call, withResults) => {
    if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'look it up' } }]);
    if (step === 'researcher') return withResults ? answer('researched') : answer('', [{ toolName: 'search_history', input: { query } }]);
    return answer('final answer');
  });
  const ctx = useSlackApp(driver, () => ({ model: gate }), (api) => {
    api.rosters.set(GEN, [MEMBER, OWNER, ADMIN, BOT]);
    api.rosters.set(PRIV, [OWNER, ADMIN, BOT]);
  });
  const toolResult = () => String(gate.calls.find((c) => c.step === 'researcher' && c.withResults)?.call.messages.at(-1)?.content ?? '');

  /** Asks through a signed event (a mention, or a DM) and answers the search tool's result. */
  async function ask(event: any): Promise<string> {
    gate.reset();
    await post(ctx.app, event);
    await waitFor(async () => (await ctx.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${event.event_id}`))[0]?.status === 'done');
    return toolResult();
  }
  const mention = (channel: string, user: string) => freshEvent('app_mention', { channel, user, text: `<@${BOT}> what do we know?` });
  const dm = (channel: string, user: string) => {
    const e = freshEvent('message_im', { channel, user, text: 'what do we know?' });
    return e;
  };

  beforeEach(() => {
    query = 'canary';
  });

  it('indexes channel messages without answering them; an edit replaces and a deletion removes the entry', async () => {
    const before = ctx.api.called('chat.postMessage').length;
    await post(ctx.app, messageEvent(GEN, OWNER, '1767250000.000100', 'canary-gen-rollback: we roll back the vendor on Friday'));
    expect((await chunks(ctx.db, sql`source_id = '1767250000.000100'`)).map((c) => c.content)).toEqual(['canary-gen-rollback: we roll back the vendor on Friday']);
    expect(gate.calls).toHaveLength(0);
    expect(ctx.api.called('chat.postMessage').length).toBe(before);

    await post(
      ctx.app,
      eventBody({
        type: 'message',
        subtype: 'message_changed',
        channel: GEN,
        channel_type: 'channel',
        ts: '1767250100.000100',
        message: { type: 'message', user: OWNER, text: 'canary-gen-edited: the rollback moved to Monday', ts: '1767250000.000100' },
        previous_message: { type: 'message', user: OWNER, text: 'canary-gen-rollback', ts: '1767250000.000100' },
      }),
    );
    expect((await chunks(ctx.db, sql`source_id = '1767250000.000100'`)).map((c) => c.content)).toEqual(['canary-gen-edited: the rollback moved to Monday']);

    await post(ctx.app, eventBody({ type: 'message', subtype: 'message_deleted', channel: GEN, channel_type: 'channel', ts: '1767250200.000100', deleted_ts: '1767250000.000100' }));
    expect(await chunks(ctx.db, sql`source_id = '1767250000.000100'`)).toEqual([]);
    // Gone, not hidden: nothing of it is left anywhere in the index.
    expect(JSON.stringify(await chunks(ctx.db))).not.toContain('canary-gen-edited');
  });

  it('a file shared in a channel is indexed by name, and file_deleted removes it', async () => {
    await post(ctx.app, messageEvent(GEN, OWNER, '1767250300.000100', 'the retry spec', { subtype: 'file_share', files: [{ id: 'F0KNFILE01', name: 'retries-spec.pdf', mimetype: 'application/pdf' }] }));
    expect((await chunks(ctx.db, sql`source_kind = 'file'`)).map((c) => [c.sourceId, c.content])).toEqual([['F0KNFILE01', 'File "retries-spec.pdf" (its text was not read)']]);
    await post(ctx.app, eventBody({ type: 'file_deleted', file_id: 'F0KNFILE01', event_ts: '1767250400.000100' }));
    expect(await chunks(ctx.db, sql`source_kind = 'file'`)).toEqual([]);
  });

  describe('search, the audience rule and membership', () => {
    const genTs = '1767251000.000100';
    const replyTs = '1767251060.000200';
    it('a channel answer cites the right message; nothing of a private channel, a DM or another workspace reaches it', async () => {
      await post(ctx.app, messageEvent(GEN, OWNER, genTs, 'canary-gen: the vendor rollback is on Friday'));
      await post(ctx.app, messageEvent(GEN, ADMIN, replyTs, 'canary-gen-reply: confirmed by finance', { thread_ts: genTs }));
      await post(ctx.app, messageEvent(PRIV, OWNER, '1767251100.000100', 'canary-priv: the acquisition closes in May'));
      // A DM to the bot is a turn of its own as well: it is indexed for its owner, and answered before the canaries are checked.
      await ask(messageEvent(DM_MEMBER, MEMBER, '1767251200.000100', 'canary-dm-member: my invoice number is 4411'));
      // Another workspace that has a channel with the same id.
      const [globex] = await ctx.db.db.insert(workspaces).values({ platform: 'slack', externalId: 'T0GLOBEX01' }).returning();
      await createKnowledgeStore(ctx.db.db, { vector: false }).replaceSource(
        { workspaceId: globex!.id, platform: 'slack' } as never,
        { channel: { id: GEN, kind: 'channel' }, dmOwnerUserId: null },
        { kind: 'message', id: '1767251300.000100' },
        [{ sourceKind: 'message', sourceId: '1767251300.000100', threadId: null, authorId: 'U0GLBXEXT1', chunkNo: 0, content: 'canary-globex: their pricing', permalink: null, at: new Date() }],
      );

      const result = await ask(mention(GEN, MEMBER));
      expect(result).toContain('canary-gen: the vendor rollback is on Friday');
      expect(result).toContain(`source: https://acme-corp.slack.com/archives/${GEN}/p1767251000000100`);
      expect(result).toContain(`source: https://acme-corp.slack.com/archives/${GEN}/p1767251060000200?thread_ts=${genTs}&cid=${GEN}`);
      for (const canary of ['canary-priv', 'canary-dm-member', 'canary-globex']) expect(gate.promptsText()).not.toContain(canary);
    });

    it('from a DM: the requester’s own DM and the channels they are in, never another person’s DM or a channel they are not in', async () => {
      const member = await ask(dm(DM_MEMBER, MEMBER));
      expect(member).toContain('canary-dm-member');
      expect(member).toContain('canary-gen');
      expect(gate.promptsText()).not.toContain('canary-priv');

      const owner = await ask(dm(DM_OWNER, OWNER));
      expect(owner).toContain('canary-priv: the acquisition closes in May');
      expect(gate.promptsText()).not.toContain('canary-dm-member');
      expect(gate.promptsText()).not.toContain('canary-globex');
    });

    it('after someone leaves the private channel, they stop getting its knowledge', async () => {
      ctx.api.rosters.set(PRIV, [ADMIN, BOT]);
      await post(ctx.app, eventBody({ type: 'member_left_channel', user: OWNER, channel: PRIV, channel_type: 'G', team: 'T0ACME0001', event_ts: '1767251400.000100' }));
      await ask(dm(DM_OWNER, OWNER));
      expect(toolResult()).toContain('canary-gen');
      expect(gate.promptsText()).not.toContain('canary-priv');
    });

    it('forget me removes what the person wrote and their DM from the index, with the count', async () => {
      const before = await chunks(ctx.db);
      const mine = before.filter((c) => c.author === MEMBER || c.owner === MEMBER).length;
      expect(mine).toBeGreaterThan(0);
      const reply = await command(ctx.app, MEMBER, 'forget me');
      expect(reply).toContain(`${mine} knowledge entries`);
      const after = await chunks(ctx.db);
      expect(JSON.stringify(after)).not.toContain('canary-dm-member');
      expect(after.filter((c) => c.author === MEMBER || c.owner === MEMBER)).toEqual([]);
      expect(after.length).toBe(before.length - mine);
    });
  });

  it('a mention is answered once and not indexed twice (app_mention repeats the message event)', async () => {
    const ts = '1767252000.000100';
    await post(ctx.app, messageEvent(GEN, MEMBER, ts, `<@${BOT}> canary-twice what is the plan?`));
    const e = freshEvent('app_mention', { channel: GEN, user: MEMBER, ts, text: `<@${BOT}> canary-twice what is the plan?` });
    expect((await postSlack(ctx.app, e)).status).toBe(200);
    expect(await chunks(ctx.db, sql`source_id = ${ts}`)).toHaveLength(1);
  });
});
