/**
 * Checks on every verified Slack request before any listener runs: it is for this app
 * (`api_app_id`), and a slash command or interaction is acted on once (a replay of the same signed
 * request, possible while its timestamp is within Slack's five minutes, does nothing).
 */
import type { App } from '@slack/bolt';
import type { Logger, SeenRequests } from '../../src/core/ports.js';

/** Bolt refuses timestamps older than 5 minutes and request-guard those ahead: twice that covers both. */
export const REPLAY_WINDOW_MS = 10 * 60_000;

export interface AppGuardDeps {
  /** This app's id for the request's workspace, or null when it is not known (then not checked). */
  expectedAppId(context: { teamId?: string; enterpriseId?: string; isEnterpriseInstall?: boolean }): Promise<string | null>;
  seen: SeenRequests;
  log: Logger;
}

export function guardRequests(app: App, deps: AppGuardDeps): void {
  app.use(async (args) => {
    const body = args.body as unknown as Record<string, unknown>;
    const ack = (args as { ack?: (response?: unknown) => Promise<void> }).ack;
    const expected = await deps.expectedAppId(args.context);
    if (expected && body.api_app_id !== expected) {
      deps.log.warn({ event: 'slack.foreign_app', type: String(body.type ?? body.command ?? 'unknown').slice(0, 40) }, 'Slack request for another app refused');
      await ack?.();
      return;
    }
    // Events are deduplicated by event_id in the inbox (and Slack's own retries must get through).
    // Over Socket Mode there is no signature and nobody else can send: nothing to replay.
    const signature = (args.context as { requestSignature?: string }).requestSignature;
    if (body.type !== 'event_callback' && signature) {
      if (!(await deps.seen.firstTime(`slack:${signature}`, REPLAY_WINDOW_MS))) {
        deps.log.warn({ event: 'slack.replay_refused' }, 'a Slack request already acted on came again: nothing done');
        await ack?.();
        return;
      }
    }
    await args.next();
  });
}
