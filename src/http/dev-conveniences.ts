/** Which development conveniences a start may serve, from its configuration and listen address. */
import type { Config } from '../config.js';
import { QuorumError } from '../core/errors.js';
import type { Logger } from '../core/ports.js';
import { isLoopbackAddress } from './loopback.js';

/**
 * The console and Teams without authentication act as anyone on behalf of whoever can reach them:
 * they run outside production and only when Quorum listens on loopback. On another address they
 * are off; with nothing else to serve there, Quorum refuses to start and says what to set.
 */
export function devConveniences(config: Config, log: Logger): boolean {
  if (config.NODE_ENV === 'production') return false;
  if (isLoopbackAddress(config.HOST)) return true;
  if (!usesSlack(config) && !config.MICROSOFT_APP_ID) {
    throw new QuorumError(
      'CONFIG_INVALID',
      `HOST=${config.HOST} is reachable from other machines, and the console and Teams without authentication are served on loopback only. ` +
        'Set HOST=127.0.0.1 to use the console, or configure Slack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET) or Teams (MICROSOFT_APP_ID) to serve them on this address.',
    );
  }
  log.warn(
    { event: 'service.conveniences_off', host: config.HOST },
    'HOST is not a loopback address: the console and Teams without authentication are off (loopback only)',
  );
  return false;
}

export function usesSlack(config: Config): boolean {
  return Boolean(config.SLACK_BOT_TOKEN || config.SLACK_CLIENT_ID || config.SLACK_APP_TOKEN);
}
