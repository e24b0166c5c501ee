/** Shared setup for the Teams tests: fixtures, a signed POST to /api/messages, the app with fakes. */
import { readFileSync } from 'node:fs';
import type { InteractionHandler } from '../../src/core/interactions.js';
import type { GraphAccess } from '../../adapters/teams/graph-files.js';
import type { Logger } from '../../src/core/ports.js';
import { RecordingModelGate } from '../fakes/recording-model.js';
import { FakeBotConnector } from '../fakes/bot-connector.js';
import { FakeBotIdentity } from '../fakes/bot-openid.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { useDatabaseWith, type Driver, type TestDatabase } from '../support/db.js';

export const APP_ID = '7c4e2a9b-1d3f-4b6a-8e5c-9f2d1a3b5c7e';
export const CONTOSO = '3f8d2c1a-5b7e-4d9f-8a6c-2e4b1d7f9a3c';
export const FABRIKAM = '9b1e7d4c-2a6f-4c8e-b3d5-7f1a9c2e4b6d';
export const ALEX = '0a8c6e4b-2d1f-4a3c-9e5b-7d9f1b3c5e7a';
export const JORDAN = '1b9d7f5c-3e2a-4b4d-8f6c-8e0a2c4d6f8b';
export const DEV = '8a6e4c2b-0f9d-4b1a-8c3e-5d7f9a1b3c5d';

export type Activity = Record<string, any>;

export function activity(name: string, serviceUrl: string, patch: (a: Activity) => void = () => {}): Activity {
  const a = JSON.parse(readFileSync(new URL(`../fixtures/teams/activities/${name}.json`, import.meta.url), 'utf8')) as Activity;
  a.serviceUrl = serviceUrl;
  patch(a);
  return a;
}

export interface TeamsHarness {
  app: TestApp;
  connector: FakeBotConnector;
  identity: FakeBotIdentity;
  model: RecordingModelGate;
  /** POSTs the activity with a valid channel token (or the given Authorization header, or none with null). */
  post(a: Activity | string, authorization?: string | null): Promise<{ status: number; text: string }>;
  stop(): Promise<void>;
}

export async function startTeams(
  db: TestDatabase,
  /** model: null runs the real model gate (offline provider) instead of a recording fake. */
  options: {
    model?: RecordingModelGate | null;
    env?: Record<string, string>;
    auth?: boolean;
    maxReplyChars?: number;
    log?: Logger;
    interactionHandlers?: InteractionHandler[];
    /** Microsoft Graph for channel files; none by default (the real one is never called from tests). */
    graph?: GraphAccess;
  } = {},
): Promise<TeamsHarness> {
  const connector = new FakeBotConnector();
  const identity = new FakeBotIdentity(APP_ID);
  await connector.start();
  await identity.start();
  const model = options.model ?? new RecordingModelGate();
  const auth = options.auth ?? true;
  const app = await startTestApp(db, {
    ...(options.model === null ? {} : { model }),
    ...(options.log ? { log: options.log } : {}),
    ...(options.interactionHandlers ? { interactionHandlers: options.interactionHandlers } : {}),
    env: {
      ...(auth
        ? {
            MICROSOFT_APP_ID: APP_ID,
            MICROSOFT_APP_PASSWORD: 'test-password',
            MICROSOFT_APP_TYPE: 'MultiTenant',
            MICROSOFT_APP_TENANT_ID: CONTOSO,
            // The fake connector listens on 127.0.0.1; nothing else is a Bot Connector in tests.
            MICROSOFT_SERVICE_URL_HOSTS: '127.0.0.1',
          }
        : {}),
      ...options.env,
    },
    teams: {
      ...(auth ? { settings: identity.settings(), credentialsFactory: identity.credentialsFactory() } : {}),
      graph: options.graph ?? null,
      ...(options.maxReplyChars ? { maxReplyChars: options.maxReplyChars } : {}),
    },
  });
  return {
    app,
    connector,
    identity,
    model,
    async post(a, authorization) {
      const body = typeof a === 'string' ? a : JSON.stringify(a);
      const header =
        authorization === null
          ? undefined
          : (authorization ?? (auth ? `Bearer ${identity.token({ serviceUrl: connector.url })}` : undefined));
      const res = await fetch(`${app.baseUrl}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(header ? { authorization: header } : {}) },
        body,
      });
      return { status: res.status, text: await res.text() };
    },
    async stop() {
      await app.stop();
      await connector.stop();
      await identity.stop();
    },
  };
}

/**
 * Opens a test database and starts Quorum with Teams on it for one describe block, stopping both
 * afterwards. Options are a function so that they can use objects made in the block.
 */
export function useTeams(driver: Driver, options: () => Parameters<typeof startTeams>[1] = () => ({})): { db: TestDatabase; teams: TeamsHarness } {
  return useDatabaseWith(driver, async (db, cleanup) => {
    const teams = await startTeams(db, options());
    cleanup(() => teams.stop());
    return { teams };
  });
}
