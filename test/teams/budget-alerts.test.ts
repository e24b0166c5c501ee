/**
 * Budget alerts on Teams: an admin with a 1:1 chat with Quorum gets the 80% warning there
 * (a proactive message); an admin without one is skipped with a log line; the turn is answered.
 */
import { describe, expect, it } from 'vitest';
import { spentToday } from '../support/budget.js';
import { logInto } from '../support/logs.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, ALEX, CONTOSO, JORDAN, useTeams } from './helpers.js';

const PERSONAL = 'a:1sC1vtvblI-fsWWmRi55E3NVlwOcHtgEGdAsNvB5F13P4Pif6w1RkEtZIX_hX1ntSdRySQriY7QNihcgnnM0IaRzL1WALgfqP';

describe.each(drivers)('Teams budget alerts (%s)', (driver) => {
  const lines: string[] = [];
  let seq = 0;

  /** Alex writes in his 1:1 chat; answers the text of the reply to that message. */
  async function alexSays(text: string): Promise<string> {
    const a = activity('personal_message', t.teams.connector.url, (x) => {
      x.id = `${Date.now()}${String(++seq).padStart(4, '0')}`;
      x.text = text;
    });
    expect((await t.teams.post(a)).status).toBe(200);
    const reply = await waitFor(() => t.teams.connector.messages().find((p) => p.replyToId === a.id));
    return reply.body.text ?? '';
  }
  const alerts = () => t.teams.connector.messages().filter((p) => p.body.text?.startsWith('Heads up'));

  const t = useTeams(driver, () => ({
      model: null,
      log: logInto(lines),
      // Both are admins by the operator's word; only Alex has a 1:1 chat with Quorum.
      env: { QUORUM_ADMINS: `teams:${CONTOSO}:${ALEX},teams:${CONTOSO}:${JORDAN}` },
    }));


  it('posts the warning into the 1:1 chat of an admin who has one, once, and skips the other', async () => {
    expect(await alexSays('/agent budget tokens 50000/day')).toContain('50000');
    await spentToday(t.db, { platform: 'teams', externalId: CONTOSO }, 40_000 - 1);

    expect(await alexSays('what is due this week?')).toContain('Offline model');
    // The alert goes out beside the turn, not before its answer.
    await waitFor(() => lines.some((l) => l.includes('"budget_alert.sent"')));
    const sent = alerts();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ conversationId: PERSONAL, replyToId: undefined });
    expect(sent[0]!.body.text).toMatch(new RegExp(`^Heads up: workspace ${CONTOSO} has used 40,\\d{3} of its 50,000 tokens today \\(80%\\)\\.`));
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.some((l) => l.event === 'teams.notify_skipped')).toBe(true);
    expect(logged.find((l) => l.event === 'budget_alert.sent')).toMatchObject({ sent: 1, unreachable: 1, failed: 0 });

    expect(await alexSays('and next week?')).toContain('Offline model');
    expect(alerts()).toHaveLength(1);
  });
});
