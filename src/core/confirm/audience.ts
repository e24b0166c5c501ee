/**
 * Where a connected tool's results may go (issue 16). A result is content, and the audience rule
 * applies to it like to any message: a per-user connection's results are the requester's own, so
 * such a tool is offered in their DM, and in a shared conversation only where an admin marked the
 * connection `results shared`; a workspace connection's results may be used in the conversation
 * the turn happens in. Whatever is kept (history, the answer) is stored with that conversation and
 * keeps its audience: prompt.ts never brings a DM's messages into another conversation.
 */
import type { ChannelKind } from '../envelope.js';
import type { ToolAuth } from '../ports.js';

/** What the catalog's descriptor says about a connected tool (the `mcp` seam). */
export interface ToolDescriptor {
  /** `connection.tool`. */
  name: string;
  connection: string;
  description: string;
  inputSchema: unknown;
  /** MCP `annotations.readOnlyHint === true`. */
  readOnly: boolean;
  auth: ToolAuth;
  /** An admin marked the connection `results shared`: per-user results may reach a shared conversation. */
  resultsShared: boolean;
}

/** Whether the tool may be offered to a turn in this kind of conversation. */
export function mayOffer(tool: Pick<ToolDescriptor, 'auth' | 'resultsShared'>, where: ChannelKind): boolean {
  if (tool.auth !== 'per-user') return true;
  return where === 'dm' || tool.resultsShared;
}
