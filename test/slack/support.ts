/** Signed Slack requests built from the fixtures, and an app wired to the fake Slack Web API. */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { StartOptions } from '../../src/main.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { useDatabaseWith, type Driver, type TestDatabase } from '../support/db.js';
import { FakeSlackApi } from '../fakes/slack-api.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';
const fixtures = fileURLToPath(new URL('../fixtures/slack/', import.meta.url));

export function eventFixture(name: string): any {
  return JSON.parse(readFileSync(join(fixtures, 'events', `${name}.json`), 'utf8'));
}

let triggers = 0;
/** A recorded slash command with a trigger_id of its own, as every command Slack delivers has. */
export function commandFixture(name: string): string {
  triggers += 1;
  return readFileSync(join(fixtures, 'commands', `${name}.form`), 'utf8').replace(/trigger_id=([\d.]+)\.[0-9a-f]+/, `trigger_id=$1.${process.pid}t${triggers}`);
}

let counter = 0;
/** A fixture event with a fresh event_id (and optionally a new ts / text) so that tests do not collide. */
export function freshEvent(name: string, patch: { text?: string; ts?: string; channel?: string; user?: string; team?: string } = {}): any {
  const body = eventFixture(name);
  counter += 1;
  body.event_id = `${body.event_id}x${counter}${Date.now().toString(36)}`;
  const ts = patch.ts ?? `${1767259000 + counter}.${String(counter).padStart(6, '0')}`;
  if (body.event) {
    if ('ts' in body.event) body.event.ts = ts;
    if ('event_ts' in body.event) body.event.event_ts = ts;
    if (patch.text !== undefined) body.event.text = patch.text;
    if (patch.channel) body.event.channel = patch.channel;
    if (patch.user) body.event.user = patch.user;
  }
  if (patch.team) {
    body.team_id = patch.team;
    body.context_team_id = patch.team;
    if (body.event?.team) body.event.team = patch.team;
    body.authorizations = body.authorizations?.map((a: any) => ({ ...a, team_id: patch.team }));
  }
  return body;
}

export function signature(raw: string, timestamp: number, secret = SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${raw}`).digest('hex')}`;
}

export interface PostOptions {
  secret?: string;
  /** Seconds offset of the request timestamp from now. */
  skewSeconds?: number;
  contentType?: string;
  headers?: Record<string, string>;
  unsigned?: boolean;
}

/** POSTs exactly these bytes to /slack/events, signed over the raw body with a fresh timestamp. */
export async function postSlack(app: TestApp, body: unknown, options: PostOptions = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const timestamp = Math.floor(Date.now() / 1000) + (options.skewSeconds ?? 0);
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? (typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json'),
    ...(options.unsigned
      ? {}
      : { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature(raw, timestamp, options.secret) }),
    ...options.headers,
  };
  const res = await fetch(`${app.baseUrl}/slack/events`, { method: 'POST', headers, body: raw });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** A command form from a fixture with another text (and, optionally, another user). */
export function commandForm(text: string, options: { fixture?: string; user?: string } = {}): string {
  const form = commandFixture(options.fixture ?? 'agent_help').replace(/(^|&)text=[^&]*/, `$1text=${encodeURIComponent(text)}`);
  return options.user ? form.replace(/(^|&)user_id=[^&]*/, `$1user_id=${options.user}`) : form;
}

/** A signed /agent command answered inline: the ack's JSON (the private answer, with its buttons when it has any). */
export async function slashCommand(app: TestApp, text: string, options: { fixture?: string; user?: string } = {}): Promise<{ response_type: string; text: string; blocks?: any[] }> {
  const res = await postSlack(app, commandForm(text, options));
  expect(res.status).toBe(200);
  return JSON.parse(res.text);
}

export const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export async function startSlackApp(
  db: TestDatabase,
  api: FakeSlackApi,
  options: StartOptions & { env?: Record<string, string> } = {},
): Promise<TestApp> {
  return startTestApp(db, {
    ...options,
    env: {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: api.url,
      QUORUM_ENCRYPTION_KEY: ENCRYPTION_KEY,
      ...(options.env ?? { SLACK_BOT_TOKEN: 'xoxb-acme-single' }),
    },
  });
}

/**
 * Opens a test database, a fake Slack Web API and Quorum on them for one describe block, and
 * stops all three afterwards. `prepare` teaches the fake (rosters, failures) before the app starts;
 * options are a function so that they can use objects made in the block.
 */
export function useSlackApp(
  driver: Driver,
  options: () => StartOptions & { env?: Record<string, string> } = () => ({}),
  prepare: (api: FakeSlackApi) => void = () => {},
): { db: TestDatabase; api: FakeSlackApi; app: TestApp } {
  return useDatabaseWith(driver, async (db, cleanup) => {
    const api = await new FakeSlackApi().start();
    cleanup(() => api.stop());
    prepare(api);
    const app = await startSlackApp(db, api, options());
    cleanup(() => app.stop());
    return { api, app };
  });
}

let interactions = 0;
/**
 * A recorded interaction payload (test/fixtures/slack/interactions) with a trigger_id of its own,
 * its response_url aimed at the fake Slack's hooks, and `patch` applied.
 */
export function interactionFixture(name: string, api: FakeSlackApi, patch: (p: any) => void = () => {}): any {
  interactions += 1;
  const p = JSON.parse(readFileSync(join(fixtures, 'interactions', `${name}.json`), 'utf8'));
  if (p.trigger_id) p.trigger_id = `${p.trigger_id.split('.').slice(0, 2).join('.')}.${process.pid}i${interactions}`;
  if (p.response_url) p.response_url = api.hookUrl(`/hooks/${name}/${interactions}`);
  patch(p);
  return p;
}

/** An interaction payload as Slack sends it: a form with one `payload` field holding JSON. */
export function interactionForm(payload: unknown): string {
  return `payload=${encodeURIComponent(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
}
