/** The context report behind the console's inspector: it records, never changes, and never shows what was left out. */
import { describe, expect, it } from 'vitest';
import { recordContext, type ContextReport } from '../../src/core/context-report.js';
import type { Scope } from '../../src/core/identity.js';
import type { AuditEntryInput, AuditLog, PlatformPorts, ReplyTarget, StoredMessage } from '../../src/core/ports.js';
import type { ContextItem } from '../../src/core/prompt.js';

const target = { idempotencyKey: 'k1' } as ReplyTarget;
const scope = { workspaceId: 'w1' } as Scope;
const message = (content: string, role: 'user' | 'assistant' = 'user'): StoredMessage => ({
  id: content,
  conversationId: 'c1',
  principalId: null,
  role,
  content,
  createdAt: new Date('2026-01-01T10:00:00Z'),
});

function portsWith(inspect?: (target: ReplyTarget, report: ContextReport) => void): PlatformPorts {
  return { membership: {} as PlatformPorts['membership'], directory: {} as PlatformPorts['directory'], replies: {} as PlatformPorts['replies'], ...(inspect ? { inspect } : {}) };
}

describe('recordContext', () => {
  const channel = { kind: 'channel', channelExternalId: 'general' } as const;

  it('is not made where the adapter does not ask for it', () => {
    expect(recordContext(portsWith(), target, channel, 20)).toBeNull();
  });

  it('reports what was given and what the audience rule left out, without the text of what was left out', () => {
    const reports: ContextReport[] = [];
    const recorder = recordContext(portsWith((_t, r) => reports.push(r)), target, channel, 20)!;
    const items: ContextItem[] = [
      { visibility: channel, message: message('in the channel') },
      { visibility: { kind: 'dm', ownerPrincipalId: 'p1' }, message: message('a private plan') },
      { visibility: { kind: 'channel', channelExternalId: 'leadership' }, message: message('elsewhere') },
    ];
    recorder.context(items, 'the question');
    recorder.send('answered');
    recorder.send('answered');
    expect(reports).toHaveLength(1);
    const entries = reports[0]!.entries;
    expect(entries.map((e) => [e.source, e.given, e.rule ?? null])).toEqual([
      ['instructions', true, null],
      ['message', true, null],
      ['message', false, 'audience'],
      ['message', false, 'audience'],
      ['request', true, null],
    ]);
    expect(JSON.stringify(reports)).not.toContain('a private plan');
    expect(JSON.stringify(reports)).not.toContain('elsewhere');
    expect(entries[1]!.text).toBe('in the channel');
  });

  it('passes audit entries on unchanged and notes each tool call with the rule that refused it', async () => {
    const appended: AuditEntryInput[] = [];
    const audit: AuditLog = { append: async (_s, e) => void appended.push(e), list: async () => [] };
    const reports: ContextReport[] = [];
    const recorder = recordContext(portsWith((_t, r) => reports.push(r)), target, channel, 20)!;
    const watched = recorder.watch(audit);
    const calls: AuditEntryInput[] = [
      { action: 'tool_call', outcome: 'ok', detail: { tool: 'search_history' } },
      { action: 'tool_call', outcome: 'denied', detail: { tool: 'search_history', reason: 'tool_off_here' } },
      { action: 'tool_call', outcome: 'denied', detail: { tool: 'recall', reason: 'tool_needs_dm' } },
      { action: 'tool_call', outcome: 'error', detail: { tool: 'summarize_thread', reason: 'failed' } },
      { action: 'model_call', outcome: 'error', detail: { step: 'specialist' } },
    ];
    for (const entry of calls) await watched.append(scope, entry);
    expect(appended).toEqual(calls);
    recorder.send('answered');
    const tools = reports[0]!.entries.filter((e) => e.source === 'tool_result' || e.source === 'note');
    expect(tools.map((e) => [e.label, e.given, e.rule ?? null])).toEqual([
      ['search_history', true, null],
      ['search_history', false, 'tool_rule'],
      ['recall', false, 'audience'],
      ['summarize_thread', false, 'failed'],
    ]);
    expect(tools[1]!.reason).toBe('That tool is switched off here by a workspace admin.');
  });

  it('reports a denied turn as the request left out, and never throws into the turn', () => {
    const recorder = recordContext(
      portsWith(() => {
        throw new Error('the console broke');
      }),
      target,
      channel,
      20,
    )!;
    expect(() => recorder.send('denied', 'not_a_member')).not.toThrow();
    const reports: ContextReport[] = [];
    recordContext(portsWith((_t, r) => reports.push(r)), target, channel, 20)!.send('denied', 'not_a_member');
    expect(reports[0]).toMatchObject({ outcome: 'denied', entries: [{ source: 'request', given: false, rule: 'membership' }] });
  });
});
