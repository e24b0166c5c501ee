/**
 * Who may use a connected tool (an MCP server's tool, named `connection.tool`): pure functions
 * decide() uses. A connected tool is off until a rule allows it; a deny that matches wins over
 * any allow; guests and external users get a tool only through an allow that names them.
 */
import { atLeast, type Role } from '../identity.js';
import type { ConnectedToolRule } from '../ports/tools.js';

/** Connection names: lower case, short, no dot (so `connection.tool` splits once and never looks like a built-in). */
export const CONNECTION_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** Rule patterns: `connection.tool`, with `*` anywhere; `*` alone is every connected tool. */
export const TOOL_PATTERN = /^(\*|[a-z*][a-z0-9*-]{0,31}\.[A-Za-z0-9_*.-]{1,128})$/;

/** Whether a name is a connected tool's (`connection.tool`) rather than a built-in's. */
export function isConnectedToolName(name: string): boolean {
  return name.includes('.');
}

export function matchesPattern(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** The facts a connected tool's decision needs beyond who and where. */
export interface ConnectedToolFacts {
  /** Rules of this channel and of the whole workspace ('*'). */
  rules: readonly ConnectedToolRule[];
  auth: 'none' | 'workspace' | 'per-user';
  resultsShared: boolean;
}

export type ConnectedDenial = 'tool_off_here' | 'tool_role' | 'tool_results_private';

/** null when allowed; else why not. `talk` (membership, agent on, guests) is decided before this. */
export function connectedToolDenial(role: Role, tool: string, channelKind: 'dm' | 'group' | 'channel', facts: ConnectedToolFacts): ConnectedDenial | null {
  const matching = facts.rules.filter((r) => matchesPattern(r.pattern, tool));
  if (matching.some((r) => !r.allowed)) return 'tool_off_here';
  const allows = matching.filter((r) => r.allowed);
  if (allows.length === 0) return 'tool_off_here';
  if (!atLeast(role, 'member') && !allows.some((r) => r.guests)) return 'tool_role';
  // A per-user connection's results are the requester's own: outside their DM only when an admin shared them.
  if (facts.auth === 'per-user' && channelKind !== 'dm' && !facts.resultsShared) return 'tool_results_private';
  return null;
}
