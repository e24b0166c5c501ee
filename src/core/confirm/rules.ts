/**
 * When a tool call waits for its requester's click (issue 16): a tool that may change something
 * (not read-only by its own description) does, unless an admin said `confirm never`; any tool an
 * admin marked `confirm always` does. Built-in tools count as read-only: they change nothing
 * outside the requester's own notes, which `confirm always` can still put behind a click.
 */
import { z } from 'zod';
import type { ChannelKind } from '../envelope.js';
import type { ConfirmMode, ToolAuth } from '../ports.js';

/** What the tool round knows of a tool when it decides (from the catalog's descriptor for connected tools). */
export interface ConfirmFacts {
  /** MCP `annotations.readOnlyHint === true`; true for the built-in tools. */
  readOnly: boolean;
  /** The admins' rule for this tool where the turn happens; undefined when none matches. */
  mode: ConfirmMode | undefined;
}

export function needsConfirmation({ readOnly, mode }: ConfirmFacts): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  return !readOnly;
}

/** A tool pattern as admins type it: `wiki.search`, `github.*`, `github.delete_*`, `remember`, `*`. */
export const toolPatternSchema = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[A-Za-z0-9_*-]+(\.[A-Za-z0-9_*-]+)?$/, 'a tool name or pattern such as github.* or wiki.search');

/** `*` matches any run of characters within the name (including none); everything else literally. */
export function matchesToolPattern(pattern: string, tool: string): boolean {
  const literal = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('.*')}$`).test(tool);
}

/*
 * Where a connected tool's results may go (issue 16). A result is content, and the audience rule
 * applies to it like to any message: a per-user connection's results are the requester's own, so
 * such a tool is offered in their DM, and in a shared conversation only where an admin marked the
 * connection `results shared`; a workspace connection's results may be used in the conversation
 * the turn happens in. Whatever is kept (history, the answer) is stored with that conversation and
 * keeps its audience: prompt.ts never brings a DM's messages into another conversation.
 */

/** Whether the tool (the catalog's `ConnectedTool`, the `mcp` seam) may be offered to a turn in this kind of conversation. */
export function mayOffer(tool: { auth: ToolAuth; resultsShared: boolean }, where: ChannelKind): boolean {
  if (tool.auth !== 'per-user') return true;
  return where === 'dm' || tool.resultsShared;
}
