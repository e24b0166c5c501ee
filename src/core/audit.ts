/** What the audit log may keep of a message's content. */
import type { AuditEntryInput } from './ports.js';

/**
 * Content kept in clear, or null when only its SHA-256 may be kept: admins read the audit log,
 * so only a channel's content, and only where the workspace opted in; a DM is its owner's alone
 * (a group DM its members'), and content of unknown origin is treated like a DM's.
 */
export function contentKeptInClear(entry: Pick<AuditEntryInput, 'content' | 'channelKind'>, storeContent: boolean): string | null {
  if (entry.content == null) return null;
  return storeContent && entry.channelKind === 'channel' ? entry.content : null;
}
