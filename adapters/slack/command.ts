/**
 * `/agent`: answered inside Slack's 3 s ack, ephemeral. The core parses the grammar; this file
 * only delivers the verified identity and the text as typed. A slow answer goes to response_url.
 */
import { neutralizeText } from '../../src/core/outgoing-text.js';
import type { App } from '@slack/bolt';
import type { CommandAnswer } from '../../src/core/commands/index.js';
import type { Envelope, EnvelopeInput } from '../../src/core/envelope.js';
import { messageWithActions } from './markdown.js';
import type { Logger } from '../../src/core/ports.js';
import { commandEnvelope, slashCommandSchema } from './events.js';

/** Leaves room for the network inside Slack's 3 seconds. */
const ACK_BUDGET_MS = 2_500;
const FAILED = 'Sorry, I could not run that command right now. Please try again in a minute.';

export interface CommandDeps {
  answerCommand: (envelope: Envelope) => Promise<CommandAnswer>;
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
    const answer = deps.answerCommand(deps.parse(commandEnvelope(parsed.data))).then(shown, (err: unknown) => {
      deps.log.error({ event: 'slack.command_failed', err: (err as Error)?.message?.slice(0, 200) }, '/agent failed');
      return shown({ text: FAILED });
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), deps.budgetMs ?? ACK_BUDGET_MS);
    });
    const content = await Promise.race([answer, late]);
    clearTimeout(timer);
    if (content !== null) {
      await ack({ response_type: 'ephemeral', ...content });
      return;
    }
    await ack({ response_type: 'ephemeral', text: 'Working on it…' });
    // The command keeps running; its answer replaces nothing and is posted once through response_url.
    void answer.then((c) =>
      respond({ response_type: 'ephemeral', ...c }).catch((err: unknown) =>
        deps.log.warn({ event: 'slack.respond_failed', err: (err as Error)?.message?.slice(0, 200) }, 'response_url failed'),
      ),
    );
  });
}

/** The answer as Slack shows it: neutralized text, and with buttons a Block Kit message (the clicks come back as block_actions). */
function shown(answer: CommandAnswer): { text: string; blocks?: object[] } {
  return answer.actions?.length ? messageWithActions(answer.text, answer.actions) : { text: neutralizeText(answer.text) };
}
