/**
 * `/agent usage`, `/agent budget …` and `/agent limit tpm` through the console's HTTP entry point,
 * on the offline model (which reports usage): admins see the workspace, members only their own;
 * every change is audited with old and new value; bad input changes nothing.
 */
import { desc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, workspaceSettings } from '../../src/db/schema.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

describe.each(drivers)('spend commands over the console (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  const { say, command } = consoleSpeaker(() => app);
  const lastAudit = async () => (await db.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1))[0]!;
  const settings = async () => JSON.stringify(await db.db.select().from(workspaceSettings));

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    app = await startTestApp(db, { env: { MODEL_PRICES: JSON.stringify({ offline: { input: 1, output: 3 } }) } });
    for (const u of ['ben', 'cleo']) await say(u, 'hello there');
    await say('cleo', 'and in engineering', 'engineering');
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  it('shows admins the workspace by user and channel, with a total', async () => {
    const byUser = await command('ben', '/agent usage today by user');
    expect(byUser).toMatch(/^Usage of this workspace today \(\d{4}-\d{2}-\d{2}, UTC\):/);
    const lines = byUser.split('\n');
    expect(lines.some((l) => /^cleo\s+\d+\s/.test(l))).toBe(true);
    expect(lines.some((l) => /^ben\s+\d+\s/.test(l))).toBe(true);
    const total = lines.find((l) => l.startsWith('total'))!;
    const cells = total.split(/\s{2,}/);
    const rows = lines.filter((l) => /^(ben|cleo)\s/.test(l)).map((l) => l.split(/\s{2,}/));
    // The total adds the rows up: calls, input and output tokens.
    for (const i of [1, 2, 3]) expect(Number(cells[i]!.replaceAll(',', ''))).toBe(rows.reduce((s, r) => s + Number(r[i]!.replaceAll(',', '')), 0));
    expect(total).toMatch(/\$\d/);
    const byChannel = await command('ben', '/agent usage 7d by channel');
    expect(byChannel).toContain('the last 7 days');
    expect(byChannel).toMatch(/\ngeneral\s/);
    expect(byChannel).toMatch(/\nengineering\s/);
    expect(await command('ben', '/agent usage month by model')).toMatch(/\nquorum-offline-1\s+\d/);
  });

  it('shows members their own usage only, and refuses them the workspace', async () => {
    const mine = await command('cleo', '/agent usage me 30d');
    expect(mine).toMatch(/^Your usage the last 30 days/);
    expect(mine).toMatch(/\ntotal\s+2\s/);
    expect(await command('cleo', '/agent usage')).toBe('Only workspace admins can do that.');
    expect(await lastAudit()).toMatchObject({ action: 'denial', detail: { command: 'usage', reason: 'admins_only' } });
  });

  it('sets and clears budgets in tokens and dollars, and tpm, audited with old and new value', async () => {
    expect(await command('ben', '/agent budget usd 200/month')).toBe("This workspace's monthly spending budget: none → $200.00.");
    expect(await lastAudit()).toMatchObject({ action: 'admin_change', detail: { setting: 'monthlyMicroUsd', old: 'none', new: '$200.00' } });
    expect(await command('ben', '/agent budget user tokens 50000/day')).toBe('The per-user daily token budget: none → 50000.');
    expect(await command('ben', '/agent budget user usd 2.5/day')).toBe('The per-user daily spending budget: none → $2.50.');
    expect(await command('ben', '/agent limit tpm 20000')).toBe('Tokens per minute: none → 20000.');
    const [row] = await db.db.select().from(workspaceSettings);
    expect(row).toMatchObject({ monthlyMicroUsd: 200_000_000, userDailyTokens: 50_000, userDailyMicroUsd: 2_500_000, tpm: 20_000 });
    const status = await command('cleo', '/agent status');
    expect(status).toContain('20000 tokens/min');
    expect(status).toContain('budget $200.00/month');
    expect(status).toContain('per user budget 50,000 tokens/day');
    // Within the budgets, members are still answered.
    expect(await say('cleo', 'still answered?')).toMatchObject({ kind: 'answer' });
    expect(await command('ben', '/agent budget usd off')).toBe("This workspace's daily spending budget: none → none.\nThis workspace's monthly spending budget: $200.00 → none.");
    expect(await lastAudit()).toMatchObject({ detail: { setting: 'monthlyMicroUsd', old: '$200.00', new: 'none' } });
  });

  it('answers a user whose own budget is spent, naming it, and not another', async () => {
    expect(await command('ben', '/agent budget user tokens 1/day')).toContain('→ 1.');
    const refused = await say('cleo', 'one more question');
    expect(refused.text).toMatch(/^Your daily token budget \(1 tokens\/day per person\) is used up/);
    expect(await command('ben', '/agent budget user tokens off')).toContain('→ none.');
    expect(await say('cleo', 'and now?')).toMatchObject({ kind: 'answer' });
  });

  it('refuses bad arguments with the usage line, changing nothing', async () => {
    const before = await settings();
    const budgetUsage = 'Usage: /agent budget tokens|usd N/day|N/month|off | /agent budget user tokens|usd N/day|N/month|off';
    for (const text of ['/agent budget usd -5/day', '/agent budget usd 5/week', '/agent budget user', '/agent budget usd 0/day', '/agent budget tokens 1.5/day', '/agent budget euro 5/day']) {
      expect(await command('ben', text)).toBe(budgetUsage);
    }
    expect(await command('ben', '/agent limit tpm 0')).toMatch(/^Usage: \/agent limit rpm N/);
    expect(await command('ben', '/agent usage yesterday')).toMatch(/^Usage: \/agent usage \[today\|7d\|30d\|month\]/);
    expect(await command('ben', '/agent usage by team')).toMatch(/^Usage: \/agent usage/);
    expect(await settings()).toBe(before);
  });
});
