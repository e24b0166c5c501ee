/**
 * Hybrid retrieval through the real entry points: signed Slack events index messages, the
 * background embedder gives them vectors from the fake OpenAI-compatible /embeddings (synonyms
 * share a vector there), and search_history finds by meaning what shares no word with the
 * question, with the audience filter inside the vector query too: nothing of a private channel,
 * a DM or another workspace. Where the database has no pgvector (this machine's PostgreSQL), the
 * same question is full text alone, said once at start-up. Edits, deletions and `forget me`
 * take the vectors with the chunks.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createKnowledgeStore } from '../../src/db/knowledge-store.js';
import { rowsOf } from '../../src/db/raw.js';
import { inbox, knowledgeChannels, workspaces } from '../../src/db/schema.js';
import { logInto } from '../support/logs.js';
import type { Scope } from '../../src/core/identity.js';
import { fakeEmbedding, FakeOpenAIServer } from '../fakes/openai-server.js';
import { answer, ScriptedAgentGate } from '../fakes/scripted-agent-model.js';
import { drivers } from '../support/db.js';
import { useSetup } from '../support/setup.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, useSlackApp } from '../slack/support.js';
import { ADMIN, BOT, chunks, command, eventBody, MEMBER, messageEvent, OWNER, post } from './support.js';

const GEN = 'C0KNVEC001';
const PRIV = 'C0KNVPR001';
const DM_MEMBER = 'D0ACMEVC01';
const QUESTION = 'automobile whereabouts';
const CAR_TS = '1767260000.000100';

describe.each(drivers)('vector retrieval (%s)', (driver) => {
  const lines: string[] = [];
  const gate = new ScriptedAgentGate((step, _call, withResults) => {
    if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'look it up' } }]);
    if (step === 'researcher') return withResults ? answer('researched') : answer('', [{ toolName: 'search_history', input: { query: QUESTION } }]);
    return answer('final answer');
  });
  const fake = useSetup(async (cleanup) => {
    const provider = await new FakeOpenAIServer().start();
    cleanup(() => provider.stop());
    return { provider };
  });
  const ctx = useSlackApp(
    driver,
    () => ({
      model: gate,
      log: logInto(lines),
      env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', MODEL_PROVIDER: 'openai', MODEL_BASE_URL: fake.provider.baseUrl, MODEL_API_KEY: 'sk-test', EMBEDDING_MODEL: 'fake-embed' },
    }),
    (api) => {
      api.rosters.set(GEN, [MEMBER, OWNER, ADMIN, BOT]);
      api.rosters.set(PRIV, [OWNER, ADMIN, BOT]);
    },
  );
  /** Whether this database has pgvector: PGlite always; PostgreSQL where the extension is installed. */
  let vectorOn = () => driver === 'pglite';
  const toolResult = () => String(gate.calls.find((c) => c.step === 'researcher' && c.withResults)?.call.messages.at(-1)?.content ?? '');

  async function ask(event: any): Promise<string> {
    gate.reset();
    await post(ctx.app, event);
    await waitFor(async () => (await ctx.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${event.event_id}`))[0]?.status === 'done');
    return toolResult();
  }
  const mention = () => freshEvent('app_mention', { channel: GEN, user: MEMBER, text: `<@${BOT}> where is it?` });
  /** Chunks without a vector of the model (none left once the background embedder caught up). */
  const unembedded = async () => Number((rowsOf(await ctx.db.db.execute(sql`select count(*) as n from knowledge_chunks where embedding_model is null`))[0] as { n: unknown }).n);
  const embeddedOf = async (ts: string) =>
    rowsOf(await ctx.db.db.execute(sql`select content, embedding::text as embedding from knowledge_chunks where source_id = ${ts} and embedding is not null`)) as { content: string; embedding: string }[];

  it('says once at start-up when vectors are off (PostgreSQL without pgvector), and nothing where they are on', async () => {
    const available = rowsOf(await ctx.db.db.execute(sql`select 1 from pg_available_extensions where name = 'vector'`)).length > 0;
    if (driver === 'pglite') expect(available).toBe(true);
    vectorOn = () => available;
    expect(lines.filter((l) => l.includes('"knowledge.no_pgvector"'))).toHaveLength(available ? 0 : 1);
  });

  it('finds by meaning what shares no word with the question; never a private channel, a DM or another workspace', async () => {
    // Another workspace with the same channel id, and a vector nearer the question than any of Acme's
    // (embedded by the same background embedder, which serves every workspace).
    const [globex] = await ctx.db.db.insert(workspaces).values({ platform: 'slack', externalId: 'T0GLOBVC01' }).returning();
    const other = createKnowledgeStore(ctx.db.db, { vector: vectorOn() ? { model: 'fake-embed' } : false });
    const globexScope = { workspaceId: globex!.id, platform: 'slack' } as Scope;
    await other.replaceSource(globexScope, { channel: { id: GEN, kind: 'channel' }, dmOwnerUserId: null }, { kind: 'message', id: '1767260005.000100' }, [
      { sourceKind: 'message', sourceId: '1767260005.000100', threadId: null, authorId: 'U0GLBXVEC1', chunkNo: 0, content: 'canary-globex-car: automobile whereabouts', permalink: null, at: new Date() },
    ]);

    await post(ctx.app, messageEvent(GEN, OWNER, CAR_TS, 'canary-gen-car: the car waits in bay seven'));
    await post(ctx.app, messageEvent(GEN, OWNER, '1767260001.000100', 'canary-gen-lunch: lunch is served at noon on Friday'));
    await post(ctx.app, messageEvent(GEN, ADMIN, '1767260002.000100', 'canary-gen-deploy: deploys freeze during the holidays'));
    await post(ctx.app, messageEvent(PRIV, OWNER, '1767260003.000100', 'canary-priv-car: the sedan of the chief is sold'));
    await ask(messageEvent(DM_MEMBER, MEMBER, '1767260004.000100', 'canary-dm-car: my vehicle is blue'));

    // Full text alone has nothing for the question: whatever finds the car below is the vector leg.
    const textOnly = createKnowledgeStore(ctx.db.db, { vector: false });
    expect(await textOnly.search({ workspaceId: (await scopeOf()).workspaceId } as Scope, { text: QUESTION, channelExternalIds: [GEN, PRIV], dmOwnerUserId: MEMBER, limit: 10 })).toEqual([]);

    if (!vectorOn()) {
      // No pgvector: the same question is full text alone, and the embedding model is never asked.
      const result = await ask(mention());
      expect(result).not.toContain('canary-gen-car');
      expect(fake.provider.embeddings).toEqual([]);
      expect(lines.filter((l) => l.includes('"knowledge.no_pgvector"'))).toHaveLength(1);
      return;
    }
    await waitFor(async () => (await unembedded()) === 0);
    expect(fake.provider.embeddings.every((r) => r.model === 'fake-embed')).toBe(true);
    const result = await ask(mention());
    const found = result.split('\n').filter((l) => l.includes('canary-'));
    expect(found[0]).toContain('canary-gen-car: the car waits in bay seven');
    expect(result).toContain(`source: https://acme-corp.slack.com/archives/${GEN}/p1767260000000100`);
    for (const canary of ['canary-priv-car', 'canary-dm-car', 'canary-globex-car']) expect(gate.promptsText()).not.toContain(canary);
    // The question itself was embedded for the search.
    expect(fake.provider.embeddings.some((r) => r.input.includes(QUESTION))).toBe(true);
  });

  it('an edit re-embeds the new text; a deletion takes the vector with the chunk', async (t) => {
    if (!vectorOn()) t.skip('this PostgreSQL has no pgvector');
    const edit = eventBody({
      type: 'message',
      subtype: 'message_changed',
      channel: GEN,
      channel_type: 'channel',
      ts: '1767260100.000100',
      message: { type: 'message', user: OWNER, text: 'canary-gen-edited: the parking moved upstairs', ts: CAR_TS },
      previous_message: { type: 'message', user: OWNER, text: 'canary-gen-car', ts: CAR_TS },
    });
    await post(ctx.app, edit);
    await waitFor(async () => (await embeddedOf(CAR_TS)).length === 1);
    const [row] = await embeddedOf(CAR_TS);
    expect(row!.content).toBe('canary-gen-edited: the parking moved upstairs');
    expect(JSON.parse(row!.embedding)).toEqual(fakeEmbedding('canary-gen-edited: the parking moved upstairs'));
    expect(await ask(mention())).not.toContain('canary-gen-car');

    await post(ctx.app, eventBody({ type: 'message', subtype: 'message_deleted', channel: GEN, channel_type: 'channel', ts: '1767260200.000100', deleted_ts: CAR_TS }));
    expect(await chunks(ctx.db, sql`source_id = ${CAR_TS}`)).toEqual([]);
    expect(await ask(mention())).not.toContain('canary-gen-edited');
  });

  it('forget me removes the person’s chunks with their vectors; a search finds none of it', async (t) => {
    if (!vectorOn()) t.skip('this PostgreSQL has no pgvector');
    await post(ctx.app, messageEvent(GEN, MEMBER, '1767260300.000100', 'canary-gen-member: my sedan needs new tyres'));
    await waitFor(async () => (await embeddedOf('1767260300.000100')).length === 1);
    expect(await ask(mention())).toContain('canary-gen-member');
    await command(ctx.app, MEMBER, 'forget me');
    const left = rowsOf(await ctx.db.db.execute(sql`select count(*) as n from knowledge_chunks where author_user_id = ${MEMBER} or dm_owner_user_id = ${MEMBER}`));
    expect(Number((left[0] as { n: unknown }).n)).toBe(0);
    // Another person asks the same: nothing of what the member wrote comes back by meaning either.
    gate.reset();
    await post(ctx.app, freshEvent('app_mention', { channel: GEN, user: OWNER, text: `<@${BOT}> where is it?` }));
    await waitFor(() => gate.calls.some((c) => c.step === 'researcher' && c.withResults));
    expect(gate.promptsText()).not.toContain('canary-gen-member');
    expect(gate.promptsText()).not.toContain('canary-dm-car');
  });

  async function scopeOf(): Promise<{ workspaceId: string }> {
    const [acme] = await ctx.db.db.select().from(workspaces).where(sql`external_id = 'T0ACME0001'`);
    return { workspaceId: acme!.id };
  }
});

describe('vector retrieval when the embedding model fails (pglite)', () => {
  const lines: string[] = [];
  const gate = new ScriptedAgentGate((step, _call, withResults) => {
    if (step === 'orchestrator') return answer('', [{ toolName: 'researcher', input: { task: 'look it up' } }]);
    if (step === 'researcher') return withResults ? answer('researched') : answer('', [{ toolName: 'search_history', input: { query: 'parking bay' } }]);
    return answer('final answer');
  });
  // Nothing listens on port 9: every embedding request fails.
  const ctx = useSlackApp(
    'pglite',
    () => ({ model: gate, log: logInto(lines), env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', MODEL_PROVIDER: 'openai', MODEL_BASE_URL: 'http://127.0.0.1:9/v1', EMBEDDING_MODEL: 'fake-embed' } }),
    (api) => api.rosters.set(GEN, [MEMBER, OWNER, BOT]),
  );

  it('indexing goes on and backs off; a search is full text, with the failure logged without the question', async () => {
    await post(ctx.app, messageEvent(GEN, OWNER, '1767261000.000100', 'canary-down: the parking bay is closed'));
    await waitFor(() => lines.some((l) => l.includes('"knowledge.embed_failed"') && l.includes('"use":"index"')));
    const event = freshEvent('app_mention', { channel: GEN, user: MEMBER, text: `<@${BOT}> where is it?` });
    await post(ctx.app, event);
    await waitFor(async () => (await ctx.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${event.event_id}`))[0]?.status === 'done');
    expect(gate.promptsText()).toContain('canary-down: the parking bay is closed');
    const failed = lines.filter((l) => l.includes('"knowledge.embed_failed"'));
    expect(failed.some((l) => l.includes('"use":"query"'))).toBe(true);
    expect(failed.join('\n')).not.toContain('parking');
    expect((await chunks(ctx.db, sql`embedding_model is not null`)).length).toBe(0);
  });
});

describe('vectors for what a backfill and the file worker store (pglite)', () => {
  const BACKFILLED = 'C0KNVBF001';
  const fake = useSetup(async (cleanup) => {
    const provider = await new FakeOpenAIServer().start();
    cleanup(() => provider.stop());
    return { provider };
  });
  const ctx = useSlackApp(
    'pglite',
    () => ({ env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', MODEL_PROVIDER: 'openai', MODEL_BASE_URL: fake.provider.baseUrl, MODEL_API_KEY: 'sk-test', EMBEDDING_MODEL: 'fake-embed', KNOWLEDGE_BACKFILL_PAGE_SIZE: '2' } }),
    (api) => {
      api.rosters.set(BACKFILLED, [OWNER, MEMBER, BOT]);
      api.seed(
        BACKFILLED,
        { user: OWNER, ts: '1767262000.000100', text: 'canary-bf-1: the physician visits on Tuesday' },
        { user: MEMBER, ts: '1767262060.000100', text: 'canary-bf-2: the runbook is attached', subtype: 'file_share', files: [{ id: 'F0KNVBF001', name: 'runbook.md', mimetype: 'text/markdown' }] },
        { user: OWNER, ts: '1767262120.000100', text: 'canary-bf-3: budget review next week' },
      );
      api.addFile('F0KNVBF001', { name: 'runbook.md', mimetype: 'text/markdown', bytes: new TextEncoder().encode('canary-bf-file: restart the sedan pool nightly'), channels: [BACKFILLED] });
    },
  );

  // The embedder's idle look-around is 30 s, longer than waitFor's 10 s: these are embedded because the writes woke it.
  it('history pages and file text get their vectors once stored', async () => {
    await post(ctx.app, eventBody({ type: 'member_joined_channel', user: BOT, channel: BACKFILLED, channel_type: 'C', team: 'T0ACME0001', event_ts: '1767262500.000100' }));
    await waitFor(async () => (await ctx.db.db.select().from(knowledgeChannels).where(sql`channel_external_id = ${BACKFILLED}`))[0]?.backfill === 'done');
    await waitFor(async () => (await chunks(ctx.db, sql`channel_external_id = ${BACKFILLED} and embedding_model = 'fake-embed'`)).some((c) => c.content.includes('canary-bf-file')));
    await waitFor(async () => (await chunks(ctx.db, sql`channel_external_id = ${BACKFILLED} and embedding_model is null`)).length === 0);
    const embedded = (await chunks(ctx.db, sql`channel_external_id = ${BACKFILLED}`)).map((c) => c.content).join('\n');
    for (const canary of ['canary-bf-1', 'canary-bf-3', 'canary-bf-file']) expect(embedded).toContain(canary);
  });
});
