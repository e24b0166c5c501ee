/**
 * `/agent`: answered inside Slack's 3 s ack, ephemeral. The core parses the grammar; this file
 * only delivers the verified identity and the text as typed. A slow answer goes to response_url.
 */
import { neutralizeText } from '../../src/core/outgoing-text.js';
import type { App } from '@slack/bolt';
import type { Envelope, EnvelopeInput } from '../../src/core/envelope.js';
import type { Logger } from '../../src/core/ports.js';
import { commandEnvelope, slashCommandSchema } from './events.js';

/** Leaves room for the network inside Slack's 3 seconds. */
const ACK_BUDGET_MS = 2_500;
const FAILED = 'Sorry, I could not run that command right now. Please try again in a minute.';

export interface CommandDeps {
  answerCommand: (envelope: Envelope) => Promise<string>;
  parse: (input: EnvelopeInput) => Envelope;
  log: Logger;
  budgetMs?: number;
}

export function registerCommand(app: App, deps: CommandDeps): void {
  app.command('/agent', async ({ command, ack, respond }) => {
    const parsed = slashCommandSchema.safeParse(command);
    if (!parsed.success) {
      await ack({ response_type: 'ephemeral', text: FAILED });
      return;
    }
    const answer = deps.answerCommand(deps.parse(commandEnvelope(parsed.data))).catch((err: unknown) => {
      deps.log.error({ event: 'slack.command_failed', err: (err as Error)?.message?.slice(0, 200) }, '/agent failed');
      return FAILED;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), deps.budgetMs ?? ACK_BUDGET_MS);
    });
    const text = await Promise.race([answer, late]);
    clearTimeout(timer);
    if (text !== null) {
      await ack({ response_type: 'ephemeral', text: neutralizeText(text) });
      return;
    }
    await ack({ response_type: 'ephemeral', text: 'Working on it…' });
    // The command keeps running; its answer replaces nothing and is posted once through response_url.
    void answer.then((t) =>
      respond({ response_type: 'ephemeral', text: neutralizeText(t) }).catch((err: unknown) =>
        deps.log.warn({ event: 'slack.respond_failed', err: (err as Error)?.message?.slice(0, 200) }, 'response_url failed'),
      ),
    );
  });
}
