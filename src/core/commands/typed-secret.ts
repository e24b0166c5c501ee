/**
 * `/agent connections secret NAME <value>`: a secret typed into a message. The command is refused
 * when it runs (connections.ts); before that, the envelope's text loses the value, so that it is
 * stored nowhere, not even in the inbox, which keeps envelopes for a while.
 */
import { parseCommand } from './grammar.js';

/** What the stored text says instead; it still parses as a typed secret, so the runner refuses it the same way. */
export const TYPED_SECRET_REMOVED = '/agent connections secret (typed value removed)';

export function withoutTypedSecret(text: string): string {
  const parsed = parseCommand(text);
  return parsed.ok && parsed.command.name === 'connections' && parsed.command.action.kind === 'secret_typed' ? TYPED_SECRET_REMOVED : text;
}
