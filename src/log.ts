/** Structured JSON logs (pino). Secret-looking and content fields are redacted wherever they appear. */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

const REDACTED_KEYS = [
  'token', 'botToken', 'bot_token', 'accessToken', 'access_token', 'secret', 'password', 'apiKey', 'api_key',
  'authorization', 'Authorization', 'cookie', 'text', 'content', 'signingSecret', 'clientSecret',
];

/**
 * Without a destination, stdout written asynchronously: lines logged while a write is under way
 * go out together in the next one (one write per line cost a system call per turn under load).
 * pino flushes what is pending when the process exits or is stopped.
 */
export function createLogger(level: string, destination: DestinationStream = pino.destination({ dest: 1, sync: false })): PinoLogger {
  return pino(
    {
      level,
      base: { service: 'quorum' },
      redact: { paths: [...REDACTED_KEYS, ...REDACTED_KEYS.map((k) => `*.${k}`)], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
