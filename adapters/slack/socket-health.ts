/**
 * Socket Mode's connection, watched: a readiness check that fails until Slack's socket is open,
 * and one plain log line (not one per attempt) while Slack cannot be reached.
 *
 * Left to itself the Socket Mode client retries apps.connections.open about every second and
 * logs every failure (a DNS error every few seconds, forever), and its start() does not resolve
 * until it connects, so Quorum never said it was up. Here start() resolves at the first failed
 * attempt and the retries carry on in the background with a back-off up to a minute.
 */
import type { Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../src/core/ports.js';

const MAX_BACKOFF_MS = 60_000;

/** The Socket Mode client's state events (it is an eventemitter3, not a Node EventEmitter). */
export interface SocketEvents {
  on(event: 'connected' | 'reconnecting' | 'disconnected', listener: () => void): unknown;
}

export interface SocketWatch {
  /** Options for the Socket Mode client's WebClient (apps.connections.open). */
  clientOptions: { retryConfig: object; logger: BoltLogger };
  /** Connects: resolves once connected, or once Slack proved unreachable (the retries go on). */
  start(connect: () => Promise<unknown>, client: SocketEvents): Promise<void>;
  /** Ends the background retries (stop()). */
  stop(): void;
  /** Readiness: rejects while the socket is not open. */
  check(): Promise<void>;
}

export function watchSocketMode(apiUrl: string, log: Logger, boltLog: BoltLogger): SocketWatch {
  let state: 'connecting' | 'connected' | 'reconnecting' = 'connecting';
  let stopped = false;
  let unreachableSaid = false;
  let onUnreachable: () => void = () => {};

  const retryConfig = {
    forever: true,
    factor: 2,
    minTimeout: 1_000,
    maxTimeout: MAX_BACKOFF_MS,
    randomize: true,
    // p-retry: throwing here ends the retries (after stop()).
    onFailedAttempt: (err: Error & { original?: Error }) => {
      if (stopped) throw err;
      if (!unreachableSaid) {
        unreachableSaid = true;
        const reason = (err.original ?? err).message.slice(0, 200);
        log.warn(
          { event: 'slack.unreachable', url: apiUrl, err: reason },
          `Slack is not reachable at ${apiUrl} (${reason}): retrying apps.connections.open (Socket Mode) in the background, backing off up to ${MAX_BACKOFF_MS / 1000} s; /readyz reports slack unavailable until it connects`,
        );
      }
      onUnreachable();
    },
  };
  // Every failed attempt is said once above: the WebClient's own line per attempt goes to debug.
  const quiet: BoltLogger = {
    ...boltLog,
    warn: (...args: unknown[]) => (args[0] === 'http request failed' ? boltLog.debug(...args) : boltLog.warn(...args)),
  };

  return {
    clientOptions: { retryConfig, logger: quiet },
    async start(connect, client) {
      client.on('connected', () => {
        if (unreachableSaid) log.info({ event: 'slack.connected' }, 'Slack reached: Socket Mode connected');
        unreachableSaid = false;
        state = 'connected';
      });
      client.on('reconnecting', () => (state = 'reconnecting'));
      client.on('disconnected', () => (state = 'reconnecting'));
      let returned = false;
      const connected = connect();
      // A start that fails after start() returned (once Slack proved unreachable) must not go unhandled.
      connected.catch((err: unknown) => {
        if (returned && !stopped) log.error({ event: 'slack.socket_failed', err: (err as Error).message?.slice(0, 200) }, 'Slack Socket Mode gave up: restart Quorum once Slack is reachable');
      });
      try {
        await Promise.race([connected, new Promise<void>((resolve) => (onUnreachable = resolve))]);
      } finally {
        returned = true;
      }
    },
    stop() {
      stopped = true;
    },
    async check() {
      if (state !== 'connected') throw new Error(`Slack Socket Mode ${state}`);
    },
  };
}
