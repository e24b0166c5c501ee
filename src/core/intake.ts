/**
 * Durable intake: validate, write to the inbox under the platform's idempotency key, return.
 * Nothing slow happens here: Slack wants its ack within 3 seconds.
 */
import { envelopeSchema, type Envelope } from './envelope.js';
import type { InboxStore } from './ports.js';

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
      const status = await inbox.enqueue(parsed.data);
      if (status === 'accepted') onAccepted();
      return { status, envelope: parsed.data };
    },
  };
}
