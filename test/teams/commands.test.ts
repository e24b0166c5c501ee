/**
 * `/agent` commands that name people in Teams: a mention that carries only the `29:` id (as Teams
 * often sends) is looked up in the roster, so the grant names the person by the id Quorum knows.
 */
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { grants, principals } from '../../src/db/schema.js';
import { drivers } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { activity, ALEX, CONTOSO, JORDAN, useTeams } from './helpers.js';

// Jordan Lee's 29: id in the fake connector's roster (paged_members.page1.json).
const JORDAN_29 = '29:1kT3ouAJlKx5JYsH8n2D-ktRjKPP4p3McpciV4uczIwQSyxZsVu2rE-PKQ_OIfyemFkWUjfq9J29Sh7D';

describe.each(drivers)('Teams commands naming people (%s)', (driver) => {

  const t = useTeams(driver, () => ({ env: { QUORUM_ADMINS: `teams:${CONTOSO}:${ALEX}` } }));


  const grantOf = async (platformUserId: string) =>
    (
      await t.db.db
        .select({ role: grants.role })
        .from(grants)
        .innerJoin(principals, eq(principals.id, grants.principalId))
        .where(and(eq(principals.platformUserId, platformUserId)))
    )[0]?.role ?? null;

  it('grants the role to the mentioned person found by their 29: id', async () => {
    // Jordan has written in the channel, so Quorum can look Jordan up there.
    const hello = activity('channel_mention', t.teams.connector.url, (x) => {
      x.id = `${Date.now()}0001`;
      x.from = { id: JORDAN_29, name: 'Jordan Lee', aadObjectId: JORDAN };
      x.text = '<at>Quorum</at> hello';
    });
    const before = t.teams.connector.messages().length;
    expect((await t.teams.post(hello)).status).toBe(200);
    await waitFor(() => t.teams.connector.messages().length > before);

    const a = activity('channel_mention', t.teams.connector.url, (x) => {
      x.id = `${Date.now()}0002`;
      x.text = '<at>Quorum</at> /agent role <at>Jordan Lee</at> admin';
      x.entities.push({ type: 'mention', mentioned: { id: JORDAN_29, name: 'Jordan Lee' }, text: '<at>Jordan Lee</at>' });
    });
    expect((await t.teams.post(a)).status).toBe(200);
    const reply = await waitFor(() => t.teams.connector.messages().find((p) => p.body.text?.includes('Role of')));
    expect(reply.body.text).toMatch(/→ admin/);
    expect(await grantOf(JORDAN)).toBe('admin');
    expect(await grantOf(JORDAN_29)).toBeNull();
  });
});
