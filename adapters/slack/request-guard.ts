/**
 * Checks Bolt leaves out: Bolt refuses request timestamps more than 5 minutes old, but not those in
 * the future, and lets a timestamp that is not a number through to the signature check.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/**
 * Answers 401 and returns false unless the timestamp header is a whole number of seconds within
 * 5 minutes of now either way; the signature check stays Bolt's.
 */
export function guardTimestamp(req: IncomingMessage, res: ServerResponse, now = Date.now()): boolean {
  const header = req.headers['x-slack-request-timestamp'];
  const value = Array.isArray(header) ? header[0] : header;
  const ts = value !== undefined && /^\d{1,12}$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isFinite(ts) && Math.abs(ts - Math.floor(now / 1000)) <= MAX_CLOCK_SKEW_SECONDS) return true;
  req.resume();
  res.writeHead(401).end();
  return false;
}
