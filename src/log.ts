/** Structured JSON logs (pino). Secret-looking and content fields are redacted wherever they appear. */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

const REDACTED_KEYS = [
  'token', 'botToken', 'bot_token', 'accessToken', 'access_token', 'secret', 'password', 'apiKey', 'api_key',
  'authorization', 'Authorization', 'cookie', 'text', 'content', 'signingSecret', 'clientSecret',
];

export function createLogger(level: string, destination?: DestinationStream): PinoLogger {
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
