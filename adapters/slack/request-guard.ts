/**
 * Checks Bolt leaves out: Bolt refuses request timestamps more than 5 minutes old, but not those in
 * the future, and lets a timestamp that is not a number through to the signature check.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPModuleFunctions, type ReceiverProcessEventErrorHandlerArgs } from '@slack/bolt';
import { isMalformedInteractionBody, MalformedInteraction } from './interactions.js';

const { defaultProcessEventErrorHandler } = HTTPModuleFunctions;

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

/**
 * Bolt's processEventErrorHandler, with one more answer: a verified request whose payload is not
 * what Slack sends (adapters/slack/interactions.ts throws MalformedInteraction) gets 400, not 500
 * (Slack would retry a 500). Bolt hands listener errors over wrapped (UnknownError.original,
 * MultipleListenerError.originals).
 */
export async function refuseMalformed(args: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> {
  // Bolt's own middleware may trip over such a payload before any listener parses it: the verified body decides.
  const raw = (args.request as { rawBody?: Buffer }).rawBody;
  if (!args.response.headersSent && (isMalformed(args.error) || (raw !== undefined && isMalformedInteractionBody(raw.toString('utf8'))))) {
    args.response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'malformed interaction payload' }));
    return true;
  }
  return defaultProcessEventErrorHandler(args);
}

function isMalformed(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  if (err instanceof MalformedInteraction) return true;
  const { original, originals } = err as { original?: unknown; originals?: unknown[] };
  return isMalformed(original, depth + 1) || (Array.isArray(originals) && originals.some((o) => isMalformed(o, depth + 1)));
}
