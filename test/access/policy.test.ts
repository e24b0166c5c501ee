/** decide() over every role × action × resource kind, with the reason for each Deny. */
import { describe, expect, it } from 'vitest';
import {
  ADMIN_COMMANDS,
  OPEN_COMMANDS,
  TOOL_NAMES,
  decide,
  denyExplanation,
  type Action,
  type ChannelResource,
  type DenyReason,
  type Resource,
  type ResourceKind,
} from '../../src/core/access/policy.js';
import type { Role } from '../../src/core/identity.js';

const ROLES: Role[] = ['owner', 'admin', 'member', 'guest', 'external'];
const WS = 'ws-1';
const subject = (role: Role, principalId = 'p-me') => ({ principalId, role, workspaceId: WS });

const channel = (over: Partial<ChannelResource> = {}): ChannelResource => ({
  kind: 'channel',
  workspaceId: WS,
  channelKind: 'channel',
  agentEnabled: true,
  guestsEnabled: true,
  isMember: true,
  ...over,
});

const resources: Record<ResourceKind, Resource> = {
  channel: channel(),
  conversation: { kind: 'conversation', workspaceId: WS, conversationKind: 'channel', ownerPrincipalId: null, isMember: true },
  workspace: { kind: 'workspace', workspaceId: WS },
  principal: { kind: 'principal', workspaceId: WS, principalId: 'p-t', role: 'member', external: false, operatorAdmin: false },
};

const actions: Action[] = [
  { kind: 'talk' },
  { kind: 'read_history' },
  ...TOOL_NAMES.map((tool) => ({ kind: 'use_tool' as const, tool })),
  ...[...OPEN_COMMANDS, ...ADMIN_COMMANDS].map((command) => ({ kind: 'command' as const, command })),
  ...ROLES.map((to) => ({ kind: 'set_role' as const, to })),
  { kind: 'erase' },
  { kind: 'read_audit' },
  // A connected tool allowed for the workspace's members (no guests flag).
  { kind: 'use_connected_tool', tool: 'wiki.search', facts: { rules: [{ channel: '*', pattern: 'wiki.*', allowed: true, guests: false }], auth: 'none', resultsShared: false } },
];

/** The resource kind each action applies to. */
const target: Record<Action['kind'], ResourceKind> = {
  talk: 'channel',
  read_history: 'conversation',
  use_tool: 'channel',
  use_connected_tool: 'channel',
  command: 'workspace',
  set_role: 'principal',
  erase: 'principal',
  read_audit: 'workspace',
};

const label = (a: Action) => ('tool' in a ? `${a.kind}:${a.tool}` : 'command' in a ? `${a.kind}:${a.command}` : 'to' in a ? `${a.kind}:${a.to}` : a.kind);

/** The expected outcome on the default resource of the right kind (a member channel, agent on, guests on). */
function expected(role: Role, action: Action): true | DenyReason {
  const rank = ROLES.length - 1 - ROLES.indexOf(role);
  const adminPlus = rank >= 3;
  switch (action.kind) {
    case 'talk':
    case 'read_history':
      return true;
    case 'use_tool':
      if (action.tool === 'recall' || action.tool === 'remember') return 'tool_needs_dm';
      if (action.tool === 'workspace_status') return rank >= 2 ? true : 'tool_role';
      if (action.tool === 'search_history') return rank >= 1 ? true : 'tool_role';
      return true;
    case 'use_connected_tool':
      return rank >= 2 ? true : 'tool_role';
    case 'command':
      return (OPEN_COMMANDS as readonly string[]).includes(action.command) || adminPlus ? true : 'admins_only';
    case 'read_audit':
      return adminPlus ? true : 'admins_only';
    case 'set_role':
      if (!adminPlus) return 'admins_only';
      if (action.to === 'external') return 'external_stays_external';
      if (action.to === 'owner' && role !== 'owner') return 'above_own_role';
      return true;
    case 'erase':
      return adminPlus ? true : 'admins_only';
  }
}

describe('decide(): every role × action × resource kind', () => {
  const rows = ROLES.flatMap((role) =>
    actions.flatMap((action) => (Object.keys(resources) as ResourceKind[]).map((kind) => ({ role, action, kind }))),
  );
  it.each(rows.map((r) => [r.role, label(r.action), r.kind, r] as const))('%s %s on %s', (_r, _a, _k, { role, action, kind }) => {
    const decision = decide(subject(role), action, resources[kind], { owners: 2, admins: 2 });
    const want = kind === target[action.kind] ? expected(role, action) : 'not_applicable';
    expect(decision).toEqual(want === true ? { allow: true } : { allow: false, reason: want });
  });

  it('covers every deny reason with one sentence that names nothing', () => {
    for (const [reason, text] of Object.entries(denyExplanation)) {
      expect(text, reason).toMatch(/^[A-Z][^.]*\.( [A-Z][^.]*\.)?$/);
      expect(text).not.toMatch(/#|@|private|contains/);
    }
  });
});

describe('decide(): the facts that deny', () => {
  const cases: [string, Role, Action, Resource, true | DenyReason][] = [
    ['platform cannot be asked', 'owner', { kind: 'talk' }, channel({ isMember: null }), 'membership_unknown'],
    ['not a member', 'owner', { kind: 'talk' }, channel({ isMember: false }), 'not_a_member'],
    ['agent off in the channel', 'admin', { kind: 'talk' }, channel({ agentEnabled: false }), 'agent_off_here'],
    ['guests off: guest', 'guest', { kind: 'talk' }, channel({ guestsEnabled: false }), 'guests_off'],
    ['guests off: external', 'external', { kind: 'talk' }, channel({ guestsEnabled: false }), 'guests_off'],
    ['guests off: member unaffected', 'member', { kind: 'talk' }, channel({ guestsEnabled: false }), true],
    ['other workspace', 'owner', { kind: 'talk' }, channel({ workspaceId: 'ws-2' }), 'other_workspace'],
    ['DM of someone else, even for the owner', 'owner', { kind: 'read_history' }, { kind: 'conversation', workspaceId: WS, conversationKind: 'dm', ownerPrincipalId: 'p-other', isMember: true }, 'not_yours'],
    ['own DM', 'guest', { kind: 'read_history' }, { kind: 'conversation', workspaceId: WS, conversationKind: 'dm', ownerPrincipalId: 'p-me', isMember: true }, true],
    ['channel history after leaving', 'admin', { kind: 'read_history' }, { kind: 'conversation', workspaceId: WS, conversationKind: 'channel', ownerPrincipalId: null, isMember: false }, 'not_a_member'],
    ['channel history, platform down', 'admin', { kind: 'read_history' }, { kind: 'conversation', workspaceId: WS, conversationKind: 'group', ownerPrincipalId: null, isMember: null }, 'membership_unknown'],
    ['tool denied in the channel', 'owner', { kind: 'use_tool', tool: 'summarize_thread' }, channel({ toolRule: false }), 'tool_off_here'],
    ['tool allowed for guests by a rule', 'guest', { kind: 'use_tool', tool: 'workspace_status' }, channel({ toolRule: true }), true],
    ['an allow rule does not lift externals', 'external', { kind: 'use_tool', tool: 'search_history' }, channel({ toolRule: true }), 'tool_role'],
    ['recall in a DM', 'member', { kind: 'use_tool', tool: 'recall' }, channel({ channelKind: 'dm' }), true],
    ['recall in a channel even when allowed', 'owner', { kind: 'use_tool', tool: 'recall' }, channel({ toolRule: true }), 'tool_needs_dm'],
    ['tool where the agent is off', 'owner', { kind: 'use_tool', tool: 'summarize_thread' }, channel({ agentEnabled: false }), 'agent_off_here'],
    ['audit of another workspace', 'owner', { kind: 'read_audit' }, { kind: 'workspace', workspaceId: 'ws-2' }, 'other_workspace'],
  ];
  it.each(cases)('%s', (_name, role, action, resource, want) => {
    expect(decide(subject(role), action, resource)).toEqual(want === true ? { allow: true } : { allow: false, reason: want });
  });
});

describe('decide(): role changes', () => {
  const person = (role: Role, over: object = {}) => ({
    kind: 'principal' as const,
    workspaceId: WS,
    principalId: 'p-t',
    role,
    external: false,
    operatorAdmin: false,
    ...over,
  });
  const cases: [string, Role, Role, ReturnType<typeof person>, { owners: number; admins: number }, true | DenyReason][] = [
    ['admin makes a member admin', 'admin', 'admin', person('member'), { owners: 1, admins: 1 }, true],
    ['admin cannot make an owner', 'admin', 'owner', person('member'), { owners: 1, admins: 1 }, 'above_own_role'],
    ['admin cannot demote an owner', 'admin', 'member', person('owner'), { owners: 2, admins: 1 }, 'above_own_role'],
    ['owner makes an owner', 'owner', 'owner', person('admin'), { owners: 1, admins: 1 }, true],
    ['last owner cannot step down', 'owner', 'admin', person('owner', { principalId: 'p-me' }), { owners: 1, admins: 3 }, 'last_privileged'],
    ['last admin cannot step down', 'admin', 'member', person('admin', { principalId: 'p-me' }), { owners: 0, admins: 1 }, 'last_privileged'],
    ['an admin may step down when another remains', 'admin', 'member', person('admin', { principalId: 'p-me' }), { owners: 1, admins: 1 }, true],
    ['an owner cannot demote another owner', 'owner', 'admin', person('owner'), { owners: 3, admins: 1 }, 'same_rank'],
    ['an admin cannot demote another admin', 'admin', 'member', person('admin'), { owners: 1, admins: 3 }, 'same_rank'],
    ['a guest is not made admin', 'owner', 'admin', person('guest', { guest: true }), { owners: 1, admins: 1 }, 'guest_not_privileged'],
    ['a guest is not made owner', 'owner', 'owner', person('guest', { guest: true }), { owners: 1, admins: 1 }, 'guest_not_privileged'],
    ['a platform guest may be made member', 'admin', 'member', person('guest', { guest: true }), { owners: 1, admins: 1 }, true],
    ['externals stay external', 'owner', 'member', person('external', { external: true }), { owners: 1, admins: 1 }, 'external_stays_external'],
    ['nobody is made external', 'owner', 'external', person('member'), { owners: 1, admins: 1 }, 'external_stays_external'],
    ['operator admin stays admin', 'owner', 'member', person('admin', { operatorAdmin: true }), { owners: 1, admins: 2 }, 'operator_admin'],
    ['member cannot grant', 'member', 'guest', person('guest'), { owners: 1, admins: 1 }, 'admins_only'],
    ['grant across workspaces', 'owner', 'admin', person('member', { workspaceId: 'ws-2' }), { owners: 1, admins: 1 }, 'other_workspace'],
  ];
  it.each(cases)('%s', (_name, role, to, resource, counts, want) => {
    expect(decide(subject(role), { kind: 'set_role', to }, resource, counts)).toEqual(
      want === true ? { allow: true } : { allow: false, reason: want },
    );
  });
});

describe('decide(): ranks, every pair of roles', () => {
  const person = (role: Role, principalId = 'p-t') => ({ kind: 'principal' as const, workspaceId: WS, principalId, role, external: role === 'external', operatorAdmin: false });
  const rank = (r: Role) => ROLES.length - 1 - ROLES.indexOf(r);
  const many = { owners: 5, admins: 5 };
  const pairs = ROLES.flatMap((actor) => ROLES.map((target) => [actor, target] as const));
  it.each(pairs)('%s acting on %s', (actor, target) => {
    const admin = rank(actor) >= 3;
    const erase = decide(subject(actor), { kind: 'erase' }, person(target));
    const demote = decide(subject(actor), { kind: 'set_role', to: 'external' === target ? 'guest' : target }, person(target), many);
    const below = rank(target) < rank(actor);
    const why: DenyReason = !admin ? 'admins_only' : rank(target) > rank(actor) ? 'above_own_role' : 'same_rank';
    expect(erase).toEqual(admin && below ? { allow: true } : { allow: false, reason: why });
    const roleWhy = !admin ? 'admins_only' : target === 'external' ? 'external_stays_external' : why;
    expect(demote).toEqual(admin && below && target !== 'external' ? { allow: true } : { allow: false, reason: roleWhy });
    // Oneself is the exception: anyone may erase their own data; an admin may step down.
    expect(decide(subject(actor), { kind: 'erase' }, person(actor, 'p-me'))).toEqual({ allow: true });
  });
});
