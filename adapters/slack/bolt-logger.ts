/** Bolt's Logger interface on the service logger. Bolt logs free text; it never includes tokens at info and above. */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../src/core/ports.js';
import { scrubText } from '../../src/core/redact.js';

const BODY_LINE = /^(http request (?:result|body)):.*$/s;

/** pino answers whether a level is on; another Logger is assumed to want everything. */
function debugEnabled(log: Logger): () => boolean {
  const levels = log as Logger & { isLevelEnabled?: (level: string) => boolean };
  return typeof levels.isLevelEnabled === 'function' ? () => levels.isLevelEnabled!('debug') : () => true;
}

export function boltLogger(log: Logger): BoltLogger {
  const text = (args: unknown[]) => scrubText(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')).slice(0, 500);
  // WebClient and Bolt log several debug lines per Web API call and per event: with debug off
  // (production) none of them is formatted.
  const debugOn = debugEnabled(log);
  let level = LogLevel.INFO;
  return {
    // WebClient logs whole request and response bodies at debug: message text (posts, history reads) stays out.
    debug: (...args) => {
      if (debugOn()) log.debug({ event: 'slack.bolt' }, text(args).replace(BODY_LINE, '$1: [omitted]'));
    },
    info: (...args) => log.info({ event: 'slack.bolt' }, text(args)),
    warn: (...args) => log.warn({ event: 'slack.bolt' }, text(args)),
    error: (...args) => log.error({ event: 'slack.bolt' }, text(args)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
