/** A direct message as an adapter hands it to intake, for tests that submit without a platform. */
import type { EnvelopeInput } from '../../src/core/envelope.js';

export function directMessage(key: string, text = 'hello', team = 'T-INBOX'): EnvelopeInput {
  return {
    kind: 'direct',
    idempotencyKey: key,
    workspace: { platform: 'slack', externalId: team },
    user: { id: 'U1' },
    channel: { id: 'D1', kind: 'dm' },
    messageId: `m-${key}`,
    text,
    receivedAt: new Date(),
  };
}
