/**
 * The console page in a real browser (Debian's Chromium, driven by playwright-core): a DM, a
 * channel turn and its thread, a denial, the "why did it see this?" inspector, views that keep
 * to their user, and an answer shown while it is written. Screenshots: test-artifacts/console/.
 */
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelCall, ModelGate, ModelOutcome } from '../src/core/ports.js';
import { postJson, useTestApp } from './support/app.js';
import { chromiumMissing, openBrowser, type TestBrowser } from './support/browser.js';
import { spentToday } from './support/budget.js';

const DONE = 'article[data-from="quorum"][data-state="done"]';
if (chromiumMissing) console.warn(`Console browser tests ${chromiumMissing}`);

/** Switches the page to one user's view of one place, as a person would: by clicking. */
async function viewAs(page: Page, user: string, place: string): Promise<void> {
  await page.click(`[data-user="${user}"]`);
  await page.click(`[data-place="${place}"]`);
  await page.waitForSelector('#log[data-ready]');
}

/** Types and presses Enter; answers Quorum's new reply once it is done. */
async function say(page: Page, text: string): Promise<Locator> {
  const before = await page.$$eval(DONE, (nodes) => nodes.map((n) => n.getAttribute('data-id')));
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  const handle = await page.waitForFunction(
    ([selector, seen]) => [...document.querySelectorAll(selector)].find((n) => !seen.includes(n.getAttribute('data-id'))) ?? null,
    [DONE, before] as const,
  );
  const id = await handle.evaluate((n) => (n as Element).getAttribute('data-id'));
  return page.locator(`article[data-id="${id}"]`);
}

async function openInspector(reply: Locator): Promise<Locator> {
  await reply.locator('.inspect-toggle').click();
  const panel = reply.locator('.inspector');
  await panel.waitFor({ state: 'visible' });
  return panel;
}

describe.skipIf(chromiumMissing)(`console in Chromium${chromiumMissing ? ` (${chromiumMissing})` : ''}`, () => {
  const t = useTestApp('pglite');
  let browser: TestBrowser;
  let page: Page;
  beforeAll(async () => {
    browser = await openBrowser('console');
    page = browser.page;
    await page.goto(`${t.app.baseUrl}/#cleo/dm`);
    await page.waitForSelector('#log[data-ready]');
  });
  afterAll(async () => browser?.close());

  it('a DM: Markdown shown sanitized, Shift+Enter for a new line, Enter sends once', async () => {
    await page.fill('#text', 'First line');
    await page.press('#text', 'Shift+Enter');
    await page.type('#text', 'Some **bold** and a [link](https://example.com) <img src=x onerror="window.pwned=1"> <script>window.pwned=2</script>');
    expect(await page.inputValue('#text')).toContain('First line\nSome');
    expect(await page.locator('article[data-from="user"]').count()).toBe(0);

    await page.press('#text', 'Enter');
    const reply = page.locator(DONE).first();
    await reply.waitFor();
    expect(await page.inputValue('#text')).toBe('');
    const mine = page.locator('article[data-from="user"]');
    expect(await mine.count()).toBe(1);
    // Rendered as Markdown: a line break, bold, a link that opens apart; nothing that runs.
    expect(await mine.locator('.md br').count()).toBe(1);
    expect(await mine.locator('.md strong').textContent()).toBe('bold');
    expect(await mine.locator('.md a').getAttribute('rel')).toBe('noopener noreferrer');
    expect(await reply.locator('.md').textContent()).toContain('Offline model');
    // Raw HTML shows as the text that was typed, and nothing of it runs.
    expect(await mine.locator('.md').textContent()).toContain('<img src=x onerror="window.pwned=1">');
    expect(await page.locator('#log img, #log script, [onerror]').count()).toBe(0);
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
    await browser.screenshot('1-dm');
  });

  it('a channel turn and its thread: the inspector shows what the model was given', async () => {
    await viewAs(page, 'cleo', 'general');
    await say(page, 'What did we decide about the roadmap?');
    await page.click('section.thread .reply-thread');
    expect(await page.isVisible('#thread-banner')).toBe(true);
    const followUp = await say(page, 'And who owns it?');
    // Both turns sit in one thread.
    expect(await page.locator('section.thread').count()).toBe(1);
    expect(await followUp.locator('.md').textContent()).toContain('2 earlier messages');

    const panel = await openInspector(followUp);
    expect(await panel.locator('.audience').textContent()).toContain('Everyone in #general (4 members)');
    const given = panel.locator('li.ctx.given');
    expect(await given.allTextContents()).toEqual([
      expect.stringContaining('Quorum’s instructions'),
      expect.stringContaining('What did we decide about the roadmap?'),
      expect.stringContaining('Quorum’s earlier answer'),
      expect.stringContaining('And who owns it?'),
    ]);
    expect(await panel.locator('li.ctx.left').count()).toBe(0);
    await panel.scrollIntoViewIfNeeded();
    await browser.screenshot('2-channel-inspector');

    // Another member sees the thread, but not what Cleo's turns gave the model.
    await viewAs(page, 'ben', 'general');
    expect(await page.locator(DONE).count()).toBe(2);
    expect(await page.locator('.inspect-toggle').count()).toBe(0);
  });

  it('a denial: said to the requester alone, and the inspector names the rule', async () => {
    await viewAs(page, 'dev', 'engineering');
    expect(await page.textContent('#place-audience')).toContain('not a member');
    const denial = await say(page, 'What is engineering working on?');
    expect(await denial.getAttribute('data-kind')).toBe('error');
    expect(await denial.locator('.badge.private').textContent()).toBe('Only you can see this');
    expect(await denial.locator('.md').textContent()).toContain('You need to be a member of this channel');
    const panel = await openInspector(denial);
    expect(await panel.locator('.verdict').textContent()).toContain('Nothing reached the model');
    expect(await panel.locator('li.ctx.left .rule').allTextContents()).toEqual(['Membership']);
    await browser.screenshot('3-denial');

    // The channel's members see neither the attempt nor the refusal.
    await viewAs(page, 'ben', 'engineering');
    expect(await page.locator('article').count()).toBe(0);
  });

  it('tools left out by a tool rule and by the audience rule, each with its reason', async () => {
    await viewAs(page, 'ava', 'general');
    const set = await say(page, '/agent tools #general deny search_history');
    expect(await set.getAttribute('data-kind')).toBe('notice');
    await viewAs(page, 'cleo', 'general');
    const reply = await say(page, 'search the roadmap and recall my notes');
    const panel = await openInspector(reply);
    const left = panel.locator('li.ctx.left');
    expect(await left.count()).toBe(2);
    const rows = await left.allTextContents();
    expect(rows.find((r) => r.includes('search_history'))).toMatch(/Tool rule.*switched off here by a workspace admin/);
    expect(rows.find((r) => r.includes('recall'))).toMatch(/Audience rule.*only in your direct messages/);
    await panel.scrollIntoViewIfNeeded();
    await browser.screenshot('4-tool-rules');
  });

  it('a private notice stays in its user’s view when another user is chosen', async () => {
    // Ava set a budget; a turn that crosses 80% of it tells the admins in their DMs.
    expect((await postJson(`${t.app.baseUrl}/console/api/messages`, { user: 'ava', channel: 'dm', text: '/agent budget tokens 50000/day' })).status).toBe(200);
    await spentToday(t.db, { platform: 'console', externalId: 'demo' }, 40_000 - 1);
    await viewAs(page, 'ava', 'dm');
    await viewAs(page, 'cleo', 'general');
    await say(page, 'one more question');
    await viewAs(page, 'ava', 'dm');
    await page.locator('article .badge.notice').waitFor();
    expect(await page.locator('article .badge.notice').count()).toBe(1);
    await browser.screenshot('5-notice');
    await viewAs(page, 'cleo', 'dm');
    expect(await page.locator('article .badge.notice').count()).toBe(0);
    expect(await page.locator('#log').textContent()).not.toContain('Heads up');
  });
});

/** A model that writes its answer in two pieces, each when the test says so. */
class SteppedModel implements ModelGate {
  private steps: (() => void)[] = [];
  private waiting: (() => void) | null = null;
  /** Resolves once the model is waiting for the test. */
  paused = new Promise<void>((r) => (this.waiting = r));

  next(): void {
    this.paused = new Promise<void>((r) => (this.waiting = r));
    this.steps.shift()?.();
  }

  private pause(): Promise<void> {
    this.waiting?.();
    return new Promise((r) => this.steps.push(r));
  }

  async generate(call: ModelCall): Promise<ModelOutcome> {
    const text = 'Here is **the first part** and then the rest.';
    await this.pause();
    call.onTextDelta?.('Here is **the first part**');
    await this.pause();
    call.onTextDelta?.(' and then the rest.');
    return { kind: 'answer', text, model: 'stepped', usage: { inputTokens: 10, outputTokens: 10 }, latencyMs: 1 };
  }
}

describe.skipIf(chromiumMissing)(`console progress and streaming in Chromium${chromiumMissing ? ` (${chromiumMissing})` : ''}`, () => {
  const model = new SteppedModel();
  const t = useTestApp('pglite', () => ({ model }));
  let browser: TestBrowser;
  afterAll(async () => browser?.close());

  it('shows the status while the model works, the text while it streams, then the answer', async () => {
    browser = await openBrowser('console');
    const page = browser.page;
    await page.goto(`${t.app.baseUrl}/#ben/engineering`);
    await page.waitForSelector('#log[data-ready]');
    await page.fill('#text', 'Write it slowly');
    await page.press('#text', 'Enter');

    await model.paused;
    const reply = page.locator('article[data-from="quorum"]');
    await reply.locator('.working').waitFor();
    expect(await reply.locator('.working').textContent()).toBe('Planning…');
    await browser.screenshot('6-working');

    model.next();
    await model.paused;
    await page.locator('article[data-from="quorum"][data-state="streaming"]').waitFor();
    expect(await reply.locator('.md strong').textContent()).toBe('the first part');
    expect(await reply.locator('.md').textContent()).not.toContain('the rest');
    expect(await reply.locator('.cursor').count()).toBe(1);
    await browser.screenshot('7-streaming');

    model.next();
    await page.locator(DONE).waitFor();
    expect((await reply.locator('.md').textContent())?.trim()).toBe('Here is the first part and then the rest.');
    expect(await reply.locator('.cursor').count()).toBe(0);
  });
});
