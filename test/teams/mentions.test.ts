/**
 * Text Quorum posts in Teams can't ping or disguise links, on every path, through JWT-signed
 * activities and the fake Bot Connector: a streamed 1:1 answer (typing updates holding the text so
 * far, then the final message), a channel answer (the status message updated), and a long answer's
 * further parts. Every text the connector received is checked, and what Teams shows is the stored
 * answer neutralized.
 */
import { describe, expect, it } from 'vitest';
import { neutralizeText } from '../../src/core/outgoing-text.js';
import { inbox } from '../../src/db/schema.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { drivers } from '../support/db.js';
import { harmful, HOSTILE } from '../support/hostile-text.js';
import { waitFor } from '../support/wait.js';
import { activity, useTeams, type Activity } from './helpers.js';

const LONG = Array.from({ length: 6 }, (_, i) => `Part ${i}: ${'lorem ipsum '.repeat(30)}\n\n${HOSTILE}`).join('\n\n');

describe.each(drivers)('Teams: no pings, no disguised links, on every path (%s)', (driver) => {
  let seq = 0;
  const model = new RecordingModelGate(
    (call) => {
      const asked = call.messages.at(-1)?.content ?? '';
      return { kind: 'answer', text: asked.includes('long') ? LONG : HOSTILE, model: 'fake-model', usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1 };
    },
    // Paced so that Teams (one update a second) gets several updates, mentions and links split across them.
    { words: 2, pauseMs: 80 },
  );
  const t = useTeams(driver, () => ({ model, maxReplyChars: 1_200 }));
  const fresh = (a: Activity): Activity => ({ ...a, id: `${Date.now()}${String(++seq).padStart(4, '0')}` });

  async function turn(a: Activity): Promise<void> {
    expect((await t.teams.post(a)).status).toBe(200);
    await waitFor(async () => {
      const rows = await t.db.db.select().from(inbox);
      return rows.length > 0 && rows.every((r) => r.status === 'done' || r.status === 'dead');
    });
  }

  /** Every text the connector received since the marks: posts and updates. */
  const textsSince = (posted: number, updated: number) => [
    ...t.teams.connector.posted.slice(posted).map((p) => p.body.text ?? ''),
    ...t.teams.connector.updated.slice(updated).map((u) => u.text ?? ''),
  ];
  const marks = () => [t.teams.connector.posted.length, t.teams.connector.updated.length] as const;

  it('a streamed 1:1 answer: every update and the final message are harmless', async () => {
    const [p, u] = marks();
    const a = fresh(activity('personal_message', t.teams.connector.url, (x) => (x.text = 'tell everyone')));
    await turn(a);
    const texts = textsSince(p, u);
    expect(t.teams.connector.posted.slice(p).filter((x) => x.body.type === 'typing' && (x.body.text ?? '').includes('Heads')).length).toBeGreaterThan(1);
    expect(texts.flatMap(harmful)).toEqual([]);
    expect(t.teams.connector.visible((a.conversation as { id: string }).id).map((m) => m.text)).toContain(neutralizeText(HOSTILE));
  });

  it('a channel answer (the status message updated) is harmless', async () => {
    const [p, u] = marks();
    await turn(fresh(activity('channel_mention', t.teams.connector.url, (x) => (x.text = `<at>Quorum</at> tell everyone\n`))));
    const texts = textsSince(p, u);
    expect(texts.some((x) => x.includes('Heads up'))).toBe(true);
    expect(texts.flatMap(harmful)).toEqual([]);
  });

  it('a long answer: every part is harmless', async () => {
    const [p, u] = marks();
    await turn(fresh(activity('channel_mention', t.teams.connector.url, (x) => (x.text = `<at>Quorum</at> a long one please\n`))));
    const texts = textsSince(p, u);
    expect(texts.filter((x) => x.includes('Heads up')).length).toBeGreaterThan(2);
    expect(texts.flatMap(harmful)).toEqual([]);
  });
});
