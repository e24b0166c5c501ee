/**
 * Streamed answers in Teams, through /api/messages and the fake Bot Connector: in a 1:1 chat an
 * informative update names the step ("Planning…"), then the answer goes out as typing activities
 * with streaminfo (one sequence 1, 2, … for both, the first one's id as streamId) and ends as one
 * message with streamType final; channels get one plain message; a
 * model that breaks midway leaves its stream withdrawn and a clear error.
 */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { inbox, messages } from '../../src/db/schema.js';
import { idempotencyKeyOf } from '../../adapters/teams/activity.js';
import type { PostedActivity } from '../fakes/bot-connector.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, useTeams, type Activity } from './helpers.js';

const ANSWER = 'The launch moves to Friday. The docs freeze is on Thursday, and the release notes are due by noon on Friday, after the review.';
const CHANNEL = '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2';

/**
 * The activity's stream info: a `streaminfo` entity, whose fields travel in channelData too
 * (botbuilder's serializer keeps only an entity's known fields).
 */
function streamInfoOf(p: PostedActivity): Record<string, unknown> | undefined {
  const entity = ((p.body.entities as Array<Record<string, unknown>> | undefined) ?? []).find((e) => e.type === 'streaminfo');
  if (!entity) return undefined;
  return { ...entity, ...(p.body.channelData as Record<string, unknown>) };
}

describe.each(drivers)('Teams streamed answers (%s)', (driver) => {
  let seq = 0;
  const model = new RecordingModelGate(
    () => ({ kind: 'answer', text: ANSWER, model: 'fake-model', usage: { inputTokens: 10, outputTokens: 30 }, latencyMs: 1 }),
    { words: 3, pauseMs: 150 },
  );
  const fresh = (a: Activity): Activity => ({ ...a, id: `${Date.now()}${String(++seq).padStart(4, '0')}` });

  /** Posts the activity, waits for its inbox row, and returns the stored answer (or null). */
  async function turn(a: Activity): Promise<string | null> {
    expect((await t.teams.post(a)).status).toBe(200);
    await waitFor(async () => {
      const rows = await t.db.db.select().from(inbox);
      return rows.length > 0 && rows.every((r) => r.status === 'done' || r.status === 'dead');
    });
    const [row] = await t.db.db
      .select({ content: messages.content })
      .from(messages)
      .where(and(eq(messages.idempotencyKey, idempotencyKeyOf(a.channelData.tenant.id, a as never)), eq(messages.role, 'assistant')));
    return row?.content ?? null;
  }

  const t = useTeams(driver, () => ({ model }));


  it('streams a 1:1 answer: an informative update, streaminfo updates in sequence, then one final message with the stored text', async () => {
    const from = t.teams.connector.posted.length;
    const a = fresh(activity('personal_message', t.teams.connector.url));
    const stored = await turn(a);
    expect(stored).toBe(ANSWER);

    const chat = (a.conversation as { id: string }).id;
    const here = t.teams.connector.posted.slice(from).filter((p) => p.conversationId === chat);
    const informative = here.filter((p) => streamInfoOf(p)?.streamType === 'informative');
    const updates = here.filter((p) => streamInfoOf(p)?.streamType === 'streaming');
    const finals = here.filter((p) => p.body.type === 'message');
    expect(informative.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(finals).toHaveLength(1);
    expect(here.indexOf(finals[0]!)).toBe(here.length - 1);

    // The step comes first, as sequence 1; its id is the stream's id from then on.
    const streamId = informative[0]!.id;
    expect(informative[0]!.body).toMatchObject({ type: 'typing', text: 'Planning…' });
    expect(streamInfoOf(informative[0]!)).toEqual({ type: 'streaminfo', streamType: 'informative', streamSequence: 1 });
    expect(here.indexOf(informative.at(-1)!)).toBeLessThan(here.indexOf(updates[0]!));
    // Answer updates are typing activities continuing the same sequence.
    updates.forEach((u, i) => {
      expect(u.body.type).toBe('typing');
      expect(streamInfoOf(u)).toEqual({ type: 'streaminfo', streamType: 'streaming', streamSequence: informative.length + i + 1, streamId });
      expect(u.replyToId).toBe(a.id);
    });
    // Each update holds the whole text so far, and the final message ends exactly on the stored answer.
    const texts = [...updates.map((u) => u.body.text!), finals[0]!.body.text!];
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!)).toBe(true);
    expect(finals[0]!.body).toMatchObject({ type: 'message', text: stored, textFormat: 'markdown' });
    expect(streamInfoOf(finals[0]!)).toEqual({ type: 'streaminfo', streamType: 'final', streamId });
  });

  it('answers a channel mention with one plain message, no streaminfo: the status message, updated with the answer', async () => {
    const from = t.teams.connector.posted.length;
    const a = fresh(activity('channel_mention', t.teams.connector.url));
    const stored = await turn(a);
    const here = t.teams.connector.posted.slice(from).filter((p) => p.conversationId.startsWith(CHANNEL));
    expect(here.filter((p) => streamInfoOf(p))).toHaveLength(0);
    expect(here.map((p) => p.body.type)).toEqual(['message']);
    expect(t.teams.connector.visible(here[0]!.conversationId).map((m) => m.text)).toEqual([stored]);
  });

  it('withdraws a 1:1 stream the model broke off, and says so', async () => {
    model.streaming = { words: 3, failAfter: 2 };
    try {
      const from = t.teams.connector.posted.length;
      const a = fresh(activity('personal_message', t.teams.connector.url, (x) => (x.text = 'when is the launch?')));
      expect(await turn(a)).toBeNull();
      const here = t.teams.connector.posted.slice(from).filter((p) => p.conversationId === (a.conversation as { id: string }).id);
      const streamId = here.find((p) => streamInfoOf(p))!.id;
      // The stream is closed (final) and its message deleted; the error is the one reply left.
      expect(here.filter((p) => streamInfoOf(p)?.streamType === 'final')).toHaveLength(1);
      expect(t.teams.connector.deleted).toContainEqual({ conversationId: (a.conversation as { id: string }).id, activityId: streamId });
      expect(here.at(-1)!.body).toMatchObject({ type: 'message', text: 'The model stopped in the middle of its answer.' });
      expect(streamInfoOf(here.at(-1)!)).toBeUndefined();
    } finally {
      model.streaming = { words: 3, pauseMs: 150 };
    }
  });
});
