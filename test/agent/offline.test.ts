/**
 * The whole pipeline (intake → inbox → worker → runTurn → model gate → AI SDK → offline model
 * with tool calling → tools → aggregator) with no real model: the multi-step flow is
 * deterministic, and a canary planted where the audience may not look never reaches the reply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvelopeInput } from '../../src/core/envelope.js';
import { FakePlatform } from '../fakes/platform.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/wait.js';

let seq = 0;
function say(user: string, channel: { id: string; kind: 'dm' | 'channel' }, text: string): EnvelopeInput {
  const key = `offline-agent-${++seq}`;
  return {
    kind: channel.kind === 'dm' ? 'direct' : 'mention',
    idempotencyKey: key,
    workspace: { platform: 'slack', externalId: 'T-OFF' },
    user: { id: user },
    channel,
    messageId: key,
    text,
    receivedAt: new Date(),
  };
}

describe.each(drivers)('multi-step turns with the offline model (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  const platform = new FakePlatform().join('C-LAUNCH', 'U-ANA', 'U-BO').join('C-SECRET', 'U-ANA');

  async function turn(envelope: EnvelopeInput): Promise<string> {
    await app.running.intake.submit(envelope);
    const posted = await waitFor(() => platform.posted.find((p) => p.target.idempotencyKey === envelope.idempotencyKey), { timeoutMs: 30_000 });
    return posted.reply.text;
  }

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    app = await startTestApp(db, { platforms: { slack: platform } });
    await turn(say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'canary-launch: we decided to ship on Friday'));
    await turn(say('U-ANA', { id: 'C-SECRET', kind: 'channel' }, 'canary-secret: the acquisition closes in May'));
    await turn(say('U-ANA', { id: 'D-ANA', kind: 'dm' }, 'canary-dm: my private reminder'));
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  it('plans, runs two specialists, aggregates; the channel reply holds only what the channel may see', async () => {
    const before = platform.progressed.length;
    const envelope = say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'search canary and summarize this thread');
    const reply = await turn(envelope);
    expect(reply).toContain('Here is what the steps found');
    expect(reply).toContain('canary-launch');
    expect(reply).not.toContain('canary-secret');
    expect(reply).not.toContain('canary-dm');
    expect(platform.posted.filter((p) => p.target.idempotencyKey === envelope.idempotencyKey)).toHaveLength(1);
    expect(platform.progressed.slice(before).map((p) => p.status)).toEqual([
      'Planning…',
      'Searching history…',
      'Searching history…',
      'Writing the answer…',
    ]);
  });

  it('from the requester’s DM, their other channels and DMs are searched', async () => {
    const reply = await turn(say('U-ANA', { id: 'D-ANA', kind: 'dm' }, 'search canary'));
    expect(reply).toContain('canary-launch');
    expect(reply).toContain('canary-secret');
    expect(reply).toContain('canary-dm');
    const bo = await turn(say('U-BO', { id: 'D-BO', kind: 'dm' }, 'search canary'));
    expect(bo).toContain('canary-launch');
    expect(bo).not.toContain('canary-secret');
    expect(bo).not.toContain('canary-dm');
  });

  it('a simple request stays one call', async () => {
    const reply = await turn(say('U-ANA', { id: 'C-LAUNCH', kind: 'channel' }, 'hello there'));
    expect(reply).toContain('You asked: "hello there"');
  });
});
