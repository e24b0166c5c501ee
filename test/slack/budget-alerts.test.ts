/**
 * Budget alerts on Slack: when a turn takes the workspace past 80% of its daily token budget,
 * each admin Quorum knows (platform owner, admin by grant, QUORUM_ADMINS) gets one DM
 * (conversations.open + chat.postMessage), once that day; members are not told; a Slack that
 * refuses the DM costs a warning in the log, never the user's answer.
 */
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { BOT_SCOPES } from '../../adapters/slack/index.js';
import { inbox } from '../../src/db/schema.js';
import type { FakeSlackApi } from '../fakes/slack-api.js';
import type { TestApp } from '../support/app.js';
import { spentToday } from '../support/budget.js';
import { logInto } from '../support/logs.js';
import { drivers, type Driver, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';
import { commandFixture, freshEvent, postSlack, useSlackApp } from './support.js';

const TEAM = 'T0ACME0001';
const OWNER = 'U0ACMEOWN1'; // owner by users.info; runs the grant, so Quorum knows them
const GRANTED = 'U0ACMEMEM1'; // a member by users.info, admin by grant
const OPERATOR = 'U0OPERATR1'; // a member by users.info, admin by QUORUM_ADMINS
const MEMBER = 'U0PLAINMB1'; // talks to the bot; must not be told
const BUDGET = 100_000;
const CHANNEL = 'C0ACMEOPS1'; // the member's channel (its roster is set on the fake)

/** A signed /agent command (the help fixture with another user and text); answers its ephemeral text. */
async function command(app: TestApp, user: string, text: string): Promise<string> {
  const form = commandFixture('agent_help')
    .replace(/user_id=[^&]+/, `user_id=${user}`)
    .replace(/text=[^&]*/, `text=${encodeURIComponent(text)}`);
  const res = await postSlack(app, form);
  expect(res.status).toBe(200);
  return JSON.parse(res.text).text as string;
}

/** A member's mention through signed /slack/events; answers what the thread shows once the turn is done. */
async function memberTurn(ctx: { app: TestApp; api: FakeSlackApi; db: TestDatabase }, text: string): Promise<string> {
  const event = freshEvent('app_mention', { user: MEMBER, channel: CHANNEL, text: `<@U0ACMEBOT1> ${text}` });
  expect((await postSlack(ctx.app, event)).status).toBe(200);
  await waitFor(async () => (await ctx.db.db.select().from(inbox).where(sql`${inbox.idempotencyKey} = ${event.event_id}`))[0]?.status === 'done');
  return ctx.api.visible(CHANNEL, event.event.ts)[0]!.text;
}

/** Acme on the fake Slack Web API, with one operator admin; logs kept in `lines`. */
function useAcme(driver: Driver, before: (api: FakeSlackApi) => void = () => {}) {
  const lines: string[] = [];
  const ctx = useSlackApp(
    driver,
    () => ({ log: logInto(lines), env: { SLACK_BOT_TOKEN: 'xoxb-acme-single', QUORUM_ADMINS: `slack:${TEAM}:${OPERATOR}` } }),
    (api) => {
      api.rosters.set(CHANNEL, [MEMBER, OWNER, 'U0ACMEBOT1']);
      before(api);
    },
  );
  return Object.assign(ctx, { lines });
}

describe.each(drivers)('Slack budget alerts (%s)', (driver) => {
  const ctx = useAcme(driver);
  const dms = () => ctx.api.called('chat.postMessage').filter((c) => c.params.channel?.startsWith('D0') && c.params.text?.startsWith('Heads up'));

  it('DMs each admin once when a turn crosses 80%, members never, and not again that day', async () => {
    const { app, api, db, lines } = ctx;
    // The owner grants admin, the operator admin sets the budget.
    expect(await command(app, OWNER, `role <@${GRANTED}|dana.okafor> admin`)).toContain('→ admin');
    expect(await command(app, OPERATOR, `budget tokens ${BUDGET}/day`)).not.toMatch(/^Usage/);
    await spentToday(db, { platform: 'slack', externalId: TEAM }, BUDGET * 0.8 - 1);

    expect(await memberTurn(ctx, 'what changed in the launch plan?')).toContain('Offline model');
    // The alert goes out beside the turn, not before its answer.
    await waitFor(() => lines.some((l) => l.includes('"budget_alert.sent"')));

    const opened = api.called('conversations.open').map((c) => c.params.users);
    expect(opened.sort()).toEqual([GRANTED, OPERATOR, OWNER].sort());
    expect(opened).not.toContain(MEMBER);
    const sent = dms();
    expect(sent.map((c) => c.params.channel).sort()).toEqual([GRANTED, OPERATOR, OWNER].map((u) => `D${u.slice(1)}`).sort());
    expect(sent.every((c) => c.token === 'xoxb-acme-single')).toBe(true);
    const text = sent[0]!.params.text!;
    expect(text).toMatch(/^Heads up: workspace T0ACME0001 has used 8\d,\d{3} of its 100,000 tokens today \(8\d%\)\. Model calls stop at the budget/);
    expect(text).toContain('/agent budget tokens N/day');
    expect(text).not.toContain('launch plan');

    // Further turns the same day: answered, and nobody is told again.
    for (let i = 0; i < 2; i++) expect(await memberTurn(ctx, `and now ${i}?`)).toContain('Offline model');
    expect(api.called('conversations.open')).toHaveLength(3);
    expect(dms()).toHaveLength(3);
    expect(lines.some((l) => l.includes('"budget_alert.sent"') && l.includes('"sent":3'))).toBe(true);
  });

  it('asks Slack for im:write, in the adapter and in the manifest', () => {
    const manifest = readFileSync(new URL('../../adapters/slack/manifest.yml', import.meta.url), 'utf8');
    const bot = /bot:\n((?:\s+- .+\n)+)/.exec(manifest)![1]!.split('\n').map((l) => l.replace(/^\s*- /, '').trim()).filter(Boolean);
    expect(bot.sort()).toEqual([...BOT_SCOPES].sort());
    expect(BOT_SCOPES).toContain('im:write');
  });
});

describe.each(drivers)('Slack per-user budget alerts (%s)', (driver) => {
  const ctx = useAcme(driver);
  const dmsTo = (user: string) => ctx.api.called('chat.postMessage').filter((c) => c.params.channel === `D${user.slice(1)}` && c.params.text?.startsWith('Heads up'));

  it('tells the user who crossed 80% of their own budget in a DM of their own, beside the admins, once', async () => {
    const { app, api, db, lines } = ctx;
    expect(await memberTurn(ctx, 'first things first')).toContain('Offline model');
    expect(await command(app, OPERATOR, `budget user tokens ${BUDGET}/day`)).not.toMatch(/^Usage/);
    await spentToday(db, { platform: 'slack', externalId: TEAM }, BUDGET * 0.8 - 1, MEMBER);

    const turn = freshEvent('app_mention', { user: MEMBER, channel: CHANNEL, text: '<@U0ACMEBOT1> what changed in the launch plan?' });
    expect((await postSlack(app, turn)).status).toBe(200);
    await waitFor(() => lines.some((l) => l.includes('"budget_alert.sent"')));

    const own = dmsTo(MEMBER);
    expect(own).toHaveLength(1);
    expect(own[0]!.token).toBe('xoxb-acme-single');
    expect(own[0]!.params.text).toMatch(/^Heads up: you have used 8\d,\d{3} tokens of your daily token budget of 100,000 tokens today \(8\d%\)\. Quorum stops answering you at the budget/);
    expect(own[0]!.params.text).not.toContain('launch plan');
    // The admin is told which user, the user is told nothing in the channel.
    expect(dmsTo(OPERATOR).map((c) => c.params.text)).toEqual([expect.stringMatching(/^Heads up: a user of workspace T0ACME0001 \(U0PLAINMB1\) has used/)]);
    expect(api.called('chat.postMessage').filter((c) => c.params.channel === CHANNEL && c.params.text?.startsWith('Heads up'))).toEqual([]);
    expect(api.called('chat.update').filter((c) => c.params.text?.startsWith('Heads up'))).toEqual([]);
    expect(lines.some((l) => l.includes('"budget_alert.sent"') && l.includes('"sent":2'))).toBe(true);

    // Another turn the same day: answered, nobody told again.
    expect(await memberTurn(ctx, 'and now?')).toContain('Offline model');
    expect(dmsTo(MEMBER)).toHaveLength(1);
    expect(dmsTo(OPERATOR)).toHaveLength(1);
  });
});

describe.each(drivers)('Slack budget alerts when Slack refuses the DM (%s)', (driver) => {
  const ctx = useAcme(driver, (api) => api.errors.set('conversations.open', { error: 'missing_scope' }));

  it('still answers the turn and logs a warning without the text', async () => {
    const { app, api, db, lines } = ctx;
    expect(await command(app, OPERATOR, `budget tokens ${BUDGET}/day`)).not.toMatch(/^Usage/);
    await spentToday(db, { platform: 'slack', externalId: TEAM }, BUDGET * 0.8 - 1);

    expect(await memberTurn(ctx, 'is the build green?')).toContain('Offline model');
    await waitFor(() => lines.some((l) => l.includes('"budget_alert.sent"')));

    expect(api.called('conversations.open').map((c) => c.params.users)).toEqual([OPERATOR]);
    expect(api.called('chat.postMessage').filter((c) => c.params.channel?.startsWith('D0'))).toHaveLength(0);
    const warning = lines.map((l) => JSON.parse(l)).find((l) => l.event === 'budget_alert.failed');
    expect(warning).toMatchObject({ level: 'warn', err: 'REPLY_FAILED: Slack conversations.open failed: missing_scope' });
    expect(lines.some((l) => l.includes('"budget_alert.sent"') && l.includes('"failed":1'))).toBe(true);
    expect(lines.some((l) => l.includes('Heads up') || l.includes('build green'))).toBe(false);
  });
});
