/** Isolation and the audience rule, asserted on the prompts the model actually receives. */
import { describe, expect, it } from 'vitest';
import type { EnvelopeInput } from '../src/core/envelope.js';
import { RecordingModelGate } from './fakes/recording-model.js';
import { FakePlatform } from './fakes/platform.js';
import { useTestApp } from './support/app.js';
import { drivers } from './support/db.js';
import { waitFor } from './support/wait.js';

let seq = 0;
function say(workspace: string, user: string, channel: { id: string; kind: 'dm' | 'channel' }, text: string, threadId?: string): EnvelopeInput {
  const key = `iso-${++seq}`;
  return {
    kind: channel.kind === 'dm' ? 'direct' : 'mention',
    idempotencyKey: key,
    workspace: { platform: 'slack', externalId: workspace },
    user: { id: user },
    channel,
    ...(threadId ? { threadId } : {}),
    messageId: key,
    text,
    receivedAt: new Date(),
  };
}

describe.each(drivers)('isolation (%s)', (driver) => {
  const platform = new FakePlatform().join('C-GEN', 'U-ANA', 'U-BO').join('C-GEN-B', 'U-ANA');
  const model = new RecordingModelGate();
  const t = useTestApp(driver, () => ({ model, platforms: { slack: platform } }));

  async function turn(envelope: EnvelopeInput): Promise<string> {
    await t.app.running.intake.submit(envelope);
    await waitFor(() => platform.posted.some((p) => p.target.idempotencyKey === envelope.idempotencyKey));
    const call = model.calls.find((c) => c.messages.at(-1)?.content === envelope.text);
    return call?.messages.map((m) => m.content).join('\n') ?? '';
  }

  it('keeps two users’ DMs apart', async () => {
    await turn(say('T-A', 'U-ANA', { id: 'D-ANA', kind: 'dm' }, 'canary-ana-dm: my salary is 100'));
    const boPrompt = await turn(say('T-A', 'U-BO', { id: 'D-BO', kind: 'dm' }, 'what is my salary?'));
    expect(boPrompt).not.toContain('canary-ana-dm');
    const anaPrompt = await turn(say('T-A', 'U-ANA', { id: 'D-ANA', kind: 'dm' }, 'and again?'));
    expect(anaPrompt).toContain('canary-ana-dm');
  });

  it('keeps two workspaces apart, even for the same user and channel ids', async () => {
    await turn(say('T-A', 'U-ANA', { id: 'C-GEN', kind: 'channel' }, 'canary-workspace-a', 'thread-1'));
    const other = await turn(say('T-B', 'U-ANA', { id: 'C-GEN', kind: 'channel' }, 'what was said?', 'thread-1'));
    expect(other).not.toContain('canary-workspace-a');
    const otherDm = await turn(say('T-B', 'U-ANA', { id: 'D-ANA', kind: 'dm' }, 'my DM here?'));
    expect(otherDm).not.toContain('canary-ana-dm');
  });

  it('never puts the requester’s DM content into their channel turn', async () => {
    await turn(say('T-A', 'U-ANA', { id: 'D-ANA', kind: 'dm' }, 'canary-private-plan: quitting in May'));
    const channelPrompt = await turn(say('T-A', 'U-ANA', { id: 'C-GEN', kind: 'channel' }, 'summarize my plans', 'thread-2'));
    expect(channelPrompt).not.toContain('canary-private-plan');
    expect(channelPrompt).not.toContain('canary-ana-dm');
  });

  it('keeps threads of one channel apart', async () => {
    await turn(say('T-A', 'U-BO', { id: 'C-GEN', kind: 'channel' }, 'canary-thread-3', 'thread-3'));
    const sameThread = await turn(say('T-A', 'U-ANA', { id: 'C-GEN', kind: 'channel' }, 'what did Bo say?', 'thread-3'));
    expect(sameThread).toContain('canary-thread-3');
    const otherThread = await turn(say('T-A', 'U-ANA', { id: 'C-GEN', kind: 'channel' }, 'and here?', 'thread-4'));
    expect(otherThread).not.toContain('canary-thread-3');
  });

  it('answers a non-member with a denial and no model call', async () => {
    const calls = model.calls.length;
    const envelope = say('T-A', 'U-BO', { id: 'C-GEN-B', kind: 'channel' }, 'let me in', 'thread-5');
    await t.app.running.intake.submit(envelope);
    const posted = await waitFor(() => platform.posted.find((p) => p.target.idempotencyKey === envelope.idempotencyKey));
    expect(posted.reply).toMatchObject({ kind: 'error', private: true });
    expect(posted.reply.text).toMatch(/member of this channel/);
    expect(model.calls.length).toBe(calls);
  });
});
