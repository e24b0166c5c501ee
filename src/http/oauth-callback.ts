/**
 * `GET /oauth/mcp/callback`: where a person's browser comes back from a connected tool's
 * authorization server (MCP authorization, OAuth 2.1 with PKCE). The work (state taken once, code
 * exchanged with its verifier, tokens sealed) is the sign-in's; this route answers a small page,
 * never a token, and is not cached or framed.
 */
import { OAUTH_CALLBACK_PATH } from '../core/confirm/credentials.js';
import type { Logger, SignInOutcome } from '../core/ports.js';
import type { Route } from './server.js';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(outcome: SignInOutcome): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(outcome.title)} · Quorum</title></head><body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem"><h1>${escape(outcome.title)}</h1><p>${escape(outcome.message)}</p></body></html>`;
}

export function oauthCallbackRoute(complete: (query: URLSearchParams) => Promise<SignInOutcome>, log: Logger): Route {
  return {
    method: 'GET',
    path: OAUTH_CALLBACK_PATH,
    async handler(req, res) {
      const query = new URL(req.url ?? '/', 'http://callback.invalid').searchParams;
      let outcome: SignInOutcome;
      try {
        outcome = await complete(query);
      } catch (err) {
        log.error({ event: 'tools.oauth_callback_failed', err: (err as Error)?.message?.slice(0, 200) }, 'sign-in callback failed');
        outcome = { status: 400, title: 'Not linked', message: 'Quorum could not complete this sign-in. Nothing was linked; ask Quorum again for a new link.' };
      }
      const body = page(outcome);
      res.writeHead(outcome.status, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        // The code and state are in this page's URL: no referrer leaves it, no one frames it.
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      });
      res.end(body);
    },
  };
}
