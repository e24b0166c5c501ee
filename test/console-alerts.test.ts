/**
 * Budget alerts in the console: the admins Quorum knows find the 80% warning in their feed; members
 * do not, except the user whose own (per-user) budget it is, who is told privately.
 */
import { describe, expect, it } from 'vitest';
import { postJson, useTestApp } from './support/app.js';
import { spentToday } from './support/budget.js';
import { drivers } from './support/db.js';
import { waitFor } from './support/wait.js';

/** Saying something in the console, and the `notify:` messages (Quorum's own DMs) in a user's feed. */
function consoleOf(t: ReturnType<typeof useTestApp>) {
  return {
    say: (user: string, channel: string, text: string) => postJson(`${t.app.baseUrl}/console/api/messages`, { user, channel, text }),
    async feed(user: string) {
      const res = await fetch(`${t.app.baseUrl}/console/api/replies?user=${user}`);
      const body = (await res.json()) as { replies: { idempotencyKey: string; kind: string; text: string; channel: string }[] };
      return body.replies.filter((r) => r.idempotencyKey.startsWith('notify:'));
    },
  };
}

describe.each(drivers)('console per-user budget alerts (%s)', (driver) => {
  const t = useTestApp(driver);
  const { say, feed } = consoleOf(t);

  it('tells the user who crossed 80% of their own budget in their own DM, and the admins who, once', async () => {
    expect((await say('cleo', 'general', 'hello')).body.reply.kind).toBe('answer');
    expect((await say('ava', 'dm', '/agent budget user tokens 50000/day')).body.reply.text).toContain('50000');
    await spentToday(t.db, { platform: 'console', externalId: 'demo' }, 40_000 - 1, 'cleo');

    expect((await say('cleo', 'general', 'what is on the roadmap?')).body.reply.kind).toBe('answer');
    await waitFor(async () => (await feed('cleo')).length > 0 && (await feed('ava')).length > 0);
    const own = await feed('cleo');
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ kind: 'notice', channel: 'dm-cleo' });
    expect(own[0]!.text).toMatch(/^Heads up: you have used 40,\d{3} tokens of your daily token budget of 50,000 tokens today \(80%\)\./);
    expect(own[0]!.text).not.toContain('roadmap');
    expect((await feed('ava'))[0]!.text).toMatch(/^Heads up: a user of workspace demo \(cleo\) has used 40,\d{3} tokens/);
    expect(await feed('dev')).toEqual([]);

    // Later turns that day tell nobody again.
    expect((await say('cleo', 'general', 'and the week after?')).body.reply.kind).toBe('answer');
    expect(await feed('cleo')).toHaveLength(1);
    expect(await feed('ava')).toHaveLength(1);
  });
});

describe.each(drivers)('console budget alerts (%s)', (driver) => {
  const t = useTestApp(driver);
  const { say, feed } = consoleOf(t);

  it('puts the warning into each admin’s feed once, and into no one else’s', async () => {
    // Ben (admin) is known to Quorum once he has written; Ava (owner) sets the budget.
    expect((await say('ben', 'dm', 'hello')).body.reply.kind).toBe('answer');
    expect((await say('ava', 'dm', '/agent budget tokens 50000/day')).body.reply.text).toContain('50000');
    await spentToday(t.db, { platform: 'console', externalId: 'demo' }, 40_000 - 1);

    const turn = await say('cleo', 'general', 'what is on the roadmap?');
    expect(turn.body.reply.kind).toBe('answer');
    // The alert goes out beside the turn, not before its answer.
    await waitFor(async () => (await feed('ava')).length > 0 && (await feed('ben')).length > 0);
    for (const admin of ['ava', 'ben']) {
      const alerts = await feed(admin);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ kind: 'notice', channel: `dm-${admin}` });
      expect(alerts[0]!.text).toMatch(/^Heads up: workspace demo has used 40,\d{3} of its 50,000 tokens today \(80%\)\./);
      expect(alerts[0]!.text).not.toContain('roadmap');
    }
    expect(await feed('cleo')).toEqual([]);
    expect(await feed('dev')).toEqual([]);

    // Later turns that day tell nobody again.
    expect((await say('cleo', 'general', 'and the week after?')).body.reply.kind).toBe('answer');
    expect(await feed('ava')).toHaveLength(1);
    expect(await feed('ben')).toHaveLength(1);
  });

  it('shows such messages in the admin’s own DM view, and in no other user’s or place’s', async () => {
    const notices = async (user: string, place: string) => {
      const res = await fetch(`${t.app.baseUrl}/console/api/view?user=${user}&place=${place}`);
      const body = (await res.json()) as { entries: { key: string; kind: string; text: string }[] };
      return body.entries.filter((e) => e.key.startsWith('notify:'));
    };
    for (const admin of ['ava', 'ben']) {
      const own = await notices(admin, 'dm');
      expect(own).toHaveLength(1);
      expect(own[0]).toMatchObject({ kind: 'notice' });
      expect(await notices(admin, 'general')).toEqual([]);
    }
    expect(await notices('cleo', 'dm')).toEqual([]);
    expect(await notices('dev', 'dm')).toEqual([]);
  });
});
