import { describe, expect, it } from 'vitest';
import { createInteractionRouter, type Interaction, type InteractionHandler } from '../src/core/interactions.js';
import { logInto } from './support/logs.js';

const click = (actionId: string, extra: Record<string, unknown> = {}) => ({
  kind: 'action',
  idempotencyKey: `k-${actionId}`,
  workspace: { platform: 'slack', externalId: 'T1' },
  user: { id: 'U1' },
  channel: { id: 'C1', kind: 'channel' },
  actionId,
  value: 'conf-1',
  receivedAt: new Date('2026-12-06T00:00:00Z'),
  ...extra,
});

function recording(prefix: string): InteractionHandler & { seen: Interaction[] } {
  const seen: Interaction[] = [];
  return { prefix, seen, handle: async (i) => (seen.push(i), { kind: 'notice', text: `${prefix} got ${i.actionId}` }) };
}

describe('the interaction router', () => {
  it('hands each interaction to the one handler that owns its prefix', async () => {
    const confirm = recording('confirm');
    const feedback = recording('feedback');
    const router = createInteractionRouter([confirm, feedback], logInto([]));
    const result = await router.route(click('feedback:up'));
    expect(result).toMatchObject({ status: 'handled', answer: { kind: 'notice', text: 'feedback got feedback:up' } });
    expect(feedback.seen.map((i) => i.value)).toEqual(['conf-1']);
    expect(confirm.seen).toHaveLength(0);
    expect(router.prefixes().sort()).toEqual(['confirm', 'feedback']);
  });

  it('refuses malformed interactions without calling any handler', async () => {
    const confirm = recording('confirm');
    const router = createInteractionRouter([confirm], logInto([]));
    for (const bad of [click('no-verb'), click('confirm:yes', { workspace: { platform: 'irc', externalId: 'x' } }), click('confirm:yes', { user: {} }), 'text', null]) {
      const result = await router.route(bad);
      expect(result.status).toBe('invalid');
    }
    expect(confirm.seen).toHaveLength(0);
  });

  it('reports an action nobody owns as unknown, and logs it', async () => {
    const lines: string[] = [];
    const router = createInteractionRouter([recording('confirm')], logInto(lines));
    expect(await router.route(click('other:thing'))).toEqual({ status: 'unknown', actionId: 'other:thing' });
    expect(lines.some((l) => l.includes('interaction.unknown_action'))).toBe(true);
  });

  it('refuses two handlers for one prefix at start-up', () => {
    expect(() => createInteractionRouter([recording('confirm'), recording('confirm')], logInto([]))).toThrow(/two interaction handlers/);
  });
});
