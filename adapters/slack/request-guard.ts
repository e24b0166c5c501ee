/** Checks Bolt leaves out: Bolt refuses request timestamps more than 5 minutes old, not those in the future. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/** Answers 401 and returns false for a timestamp more than 5 minutes ahead; the signature check stays Bolt's. */
export function guardTimestamp(req: IncomingMessage, res: ServerResponse, now = Date.now()): boolean {
  const header = req.headers['x-slack-request-timestamp'];
  const ts = Number(Array.isArray(header) ? header[0] : header);
  if (Number.isFinite(ts) && ts - Math.floor(now / 1000) > MAX_CLOCK_SKEW_SECONDS) {
    req.resume();
    res.writeHead(401).end();
    return false;
  }
  return true;
}
