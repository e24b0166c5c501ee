/**
 * Durable intake: validate, write to the inbox under the platform's idempotency key, return.
 * Nothing slow happens here: Slack wants its ack within 3 seconds.
 */
import { envelopeSchema, type Envelope } from './envelope.js';
import type { InboxStore } from './ports.js';
import { withoutTypedSecret } from './commands/typed-secret.js';

export type SubmitResult =
  | { status: 'accepted' | 'duplicate'; envelope: Envelope }
  | { status: 'ignored' }
  | { status: 'invalid'; problems: string[] };

export interface Intake {
  /** Throws (DATABASE_UNAVAILABLE or the driver's error) when the row could not be stored: never ack then. */
  submit(input: unknown): Promise<SubmitResult>;
}

export function createIntake(inbox: InboxStore, onAccepted: () => void = () => {}): Intake {
  return {
    async submit(input) {
      const parsed = envelopeSchema.safeParse(input);
      if (!parsed.success) {
        return { status: 'invalid', problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'envelope'}: ${i.code}`) };
      }
      if (parsed.data.kind === 'unsupported') return { status: 'ignored' };
      // A secret typed into a command is refused when it runs; it is never stored, not even in the inbox.
      const envelope = parsed.data.kind === 'command' ? { ...parsed.data, text: withoutTypedSecret(parsed.data.text) } : parsed.data;
      const status = await inbox.enqueue(envelope);
      if (status === 'accepted') onAccepted();
      return { status, envelope };
    },
  };
}
