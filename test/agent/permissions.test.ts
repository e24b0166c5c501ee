/**
 * toolAllowed, the check every tool call passes in the orchestrator (runTool): the channel's
 * admin rule, role floors, DM-only tools and unknown membership, with the sentence the model is
 * given for a Deny. The orchestrator path itself (rules read from the store, denials audited) is
 * in agent.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ChannelResource } from '../../src/core/access/policy.js';
import { explainToolDenial, toolAllowed, type ToolName } from '../../src/core/agent/permissions.js';
import type { Role } from '../../src/core/identity.js';

const channel = (over: Partial<ChannelResource> = {}): ChannelResource => ({
  kind: 'channel',
  workspaceId: 'ws-1',
  channelKind: 'channel',
  agentEnabled: true,
  guestsEnabled: true,
  isMember: true,
  ...over,
});
const as = (role: Role) => ({ principalId: 'p-1', role, workspaceId: 'ws-1' });
const check = (role: Role, tool: ToolName, where: ChannelResource, toolRule?: boolean) =>
  toolAllowed(as(role), tool, { ...where, toolRule });

describe('toolAllowed', () => {
  it('lets a member use a tool in a channel they are in, with or without an allow rule', () => {
    expect(check('member', 'search_history', channel())).toEqual({ allow: true });
    expect(check('member', 'search_history', channel(), true)).toEqual({ allow: true });
  });

  it('an admin switching the tool off here denies it, with the sentence the model is given', () => {
    const denied = check('member', 'search_history', channel(), false);
    expect(denied).toEqual({ allow: false, reason: 'tool_off_here' });
    if (denied.allow) throw new Error('expected a Deny');
    expect(explainToolDenial(denied)).toBe('That tool is switched off here by a workspace admin.');
  });

  it('keeps role floors, and an allow rule does not lift them', () => {
    expect(check('guest', 'workspace_status', channel())).toEqual({ allow: false, reason: 'tool_role' });
    expect(check('external', 'search_history', channel(), true)).toEqual({ allow: false, reason: 'tool_role' });
  });

  it('personal notes only in a DM, whatever the channel rule says', () => {
    expect(check('member', 'recall', channel(), true)).toEqual({ allow: false, reason: 'tool_needs_dm' });
    expect(check('member', 'recall', channel({ channelKind: 'dm' }))).toEqual({ allow: true });
  });

  it('fails closed when membership could not be asked', () => {
    expect(check('member', 'summarize_thread', channel({ isMember: null }))).toEqual({ allow: false, reason: 'membership_unknown' });
    expect(check('member', 'summarize_thread', channel({ isMember: false }))).toMatchObject({ allow: false });
  });
});
