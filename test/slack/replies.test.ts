/**
 * Slack's own reply paths: a slow /agent command answered through response_url, mrkdwn, splitting,
 * roles from users.info. What every platform's ReplySink promises is in test/contract/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlackMentions } from '../../adapters/slack/events.js';
import { factsFromUser } from '../../adapters/slack/people.js';
import { EMPTY_TEXT, outgoing } from '../../adapters/slack/markdown.js';
import { splitText } from '../../src/core/split-text.js';
import { FakeSlackApi, webFixture } from '../fakes/slack-api.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import type { TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { commandFixture, postSlack, startSlackApp } from './support.js';

describe.each(drivers)('Slack replies (%s)', (driver) => {
  let db: TestDatabase;
  let api: FakeSlackApi;
  let app: TestApp;
  const model = new RecordingModelGate();

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    api = await new FakeSlackApi().start();
    app = await startSlackApp(db, api, { model });
  });
  afterAll(async () => {
    await app?.stop();
    await api?.stop();
    await db?.close();
  });

  it('acks a slow /agent command at once and posts its answer once to response_url', async () => {
    // users.info is slow, so the core's answer misses the 3 s ack window.
    api.delays.set('users.info', 3_500);
    const form = commandFixture('agent_help')
      .replace('user_id=U0ACMEMEM1', 'user_id=U0ACMESCG1')
      .replace(/response_url=[^&]+/, `response_url=${encodeURIComponent(api.url.replace('/api/', '/commands/T0ACME0001/slow'))}`);
    try {
      const res = await postSlack(app, form);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ response_type: 'ephemeral', text: 'Working on it…' });
      const hook = await waitFor(() => api.hooks.find((h) => h.path === '/commands/T0ACME0001/slow'));
      expect(hook.body).toMatchObject({ response_type: 'ephemeral' });
      expect(hook.body.text).toMatch(/^Quorum commands\./);
      expect(api.hooks.filter((h) => h.path === '/commands/T0ACME0001/slow')).toHaveLength(1);
    } finally {
      api.delays.delete('users.info');
    }
  });

});

describe('Slack formatting and identity (pure)', () => {
  it('sends Markdown as Markdown (Slack renders markdown_text itself), never empty', () => {
    const markdown = '*italic* and **bold** and ***both***\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[docs](https://example.com/a) `a<b`';
    expect(outgoing(markdown)).toBe(markdown);
    expect(outgoing('')).toBe(EMPTY_TEXT);
    expect(outgoing('<at></at>')).toBe(EMPTY_TEXT);
  });

  it('splits at boundaries and keeps every character', () => {
    const text = 'word '.repeat(3_000).trim();
    const parts = splitText(text, 1_000);
    expect(parts.every((p) => p.length <= 1_000)).toBe(true);
    expect(parts.join(' ')).toBe(text);
    expect(splitText('', 1_000)).toEqual(['']);
    // A paragraph break is preferred to a line break inside the window.
    expect(splitText(`${'a'.repeat(60)}\n\n${'b'.repeat(20)}\n${'c'.repeat(30)}`, 100)).toEqual(['a'.repeat(60), `${'b'.repeat(20)}\n${'c'.repeat(30)}`]);
  });

  it('parses Slack mention escapes from command text', () => {
    expect(parseSlackMentions('role <@U0ACMEMEM1|dana.okafor> admin in <#C0ACMEGEN1|general> and <@W0INITNH01>')).toEqual([
      { kind: 'user', id: 'U0ACMEMEM1', name: 'dana.okafor' },
      { kind: 'channel', id: 'C0ACMEGEN1', name: 'general' },
      { kind: 'user', id: 'W0INITNH01' },
    ]);
  });

  it('maps users.info flags to roles, owner before admin, another org as external', () => {
    const acme = { platform: 'slack' as const, externalId: 'T0ACME0001' };
    const role = (name: string, homeWorkspaceId?: string) =>
      factsFromUser(acme, { id: 'U1', ...(homeWorkspaceId ? { homeWorkspaceId } : {}) }, webFixture(`users.info.${name}`).user);
    expect(role('owner').platformRole).toBe('owner');
    expect(role('admin').platformRole).toBe('admin');
    expect(role('member').platformRole).toBe('member');
    expect(role('guest').platformRole).toBe('guest');
    expect(role('single_channel_guest').platformRole).toBe('guest');
    expect(role('external').platformRole).toBe('external');
    expect(role('member', 'T0GLOBEX01').platformRole).toBe('external');
    const deleted = webFixture('users.info.member').user;
    expect(factsFromUser(acme, { id: 'U1' }, { ...deleted, deleted: true }).deleted).toBe(true);
  });
});
