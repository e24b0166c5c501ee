/** `/agent usage` and `/agent budget` as Teams messages (the real gate on the offline model, which reports usage). */
import { describe, expect, it } from 'vitest';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, ALEX, CONTOSO, useTeams } from './helpers.js';

describe.each(drivers)('Teams spend commands (%s)', (driver) => {
  let seq = 0;
  const t = useTeams(driver, () => ({ model: null, env: { QUORUM_ADMINS: `teams:${CONTOSO}:${ALEX}` } }));

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

  it('reports usage by user and for oneself, and a per-user budget stops the next call', async () => {
    expect(await alexSays('what is due this week?')).toContain('Offline model');
    const byUser = await alexSays('/agent usage today by user');
    expect(byUser).toMatch(/^Usage of this workspace today/);
    const row = byUser.split('\n').find((l) => l.startsWith(ALEX))!;
    const total = byUser.split('\n').find((l) => l.startsWith('total'))!;
    expect(row.split(/\s{2,}/).slice(1)).toEqual(total.split(/\s{2,}/).slice(1));
    expect(Number(row.split(/\s{2,}/)[1])).toBeGreaterThanOrEqual(1);
    expect(await alexSays('/agent usage me')).toMatch(/^Your usage today/);

    expect(await alexSays('/agent budget user tokens 1/day')).toBe('The per-user daily token budget: none → 1.');
    expect(await alexSays('anything else?')).toMatch(/^Your daily token budget \(1 tokens\/day per person\) is used up/);
  });
});
