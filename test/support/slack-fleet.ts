/**
 * Many Slack workspaces installed through OAuth (rows in the installations table, tokens sealed),
 * a fake Slack that knows their bots, and signed DM events for them: shared by the multi-instance
 * test and the load benchmark.
 */
import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { openDatabase, type Db } from '../../src/db/client.js';
import { createInstallationStore } from '../../src/db/installation-store.js';
import { createSecretBox } from '../../src/secrets.js';
import { messageText, type FakeSlackApi } from '../fakes/slack-api.js';

export const FLEET_SIGNING_SECRET = 'fleet-signing-secret';
export const FLEET_KEY = Buffer.alloc(32, 9).toString('base64');

export const fleetTeam = (w: number) => `TFLEET${String(w).padStart(4, '0')}`;

/** Installs `workspaces` Slack workspaces in the database at `url` and teaches the fake their bots. */
export async function installFleet(url: string, api: FakeSlackApi, workspaces: number): Promise<void> {
  const db = await openDatabase({ databaseUrl: url, dataDir: tmpdir(), poolSize: 2 });
  try {
    await installFleetIn(db.db, api, workspaces);
  } finally {
    await db.close();
  }
}

/** The same, on an open database (PGlite has no URL to open it again). */
export async function installFleetIn(db: Db, api: FakeSlackApi, workspaces: number): Promise<void> {
  const records = createInstallationStore(db, createSecretBox(Buffer.from(FLEET_KEY, 'base64')));
  for (let w = 0; w < workspaces; w++) {
    const team = fleetTeam(w);
    const token = `xoxb-fleet-${w}`;
    api.bots.set(token, { team_id: team, user_id: `UBOT${w}`, bot_id: `BBOT${w}` });
    await records.save({
      platform: 'slack',
      installKey: team,
      workspace: { platform: 'slack', externalId: team },
      secret: JSON.stringify({ team: { id: team }, bot: { token, userId: `UBOT${w}`, id: `BBOT${w}`, scopes: [] }, isEnterpriseInstall: false, appId: 'A0QRMAPP01', tokenType: 'bot' }),
      data: { teamId: team },
    });
  }
}

/** The environment an instance needs to serve the fleet (OAuth mode, the fake Slack, one key). */
export function fleetEnv(api: FakeSlackApi): Record<string, string> {
  return {
    QUORUM_ENCRYPTION_KEY: FLEET_KEY,
    SLACK_SIGNING_SECRET: FLEET_SIGNING_SECRET,
    SLACK_CLIENT_ID: 'fleet',
    SLACK_CLIENT_SECRET: 'fleet-secret',
    SLACK_STATE_SECRET: 'fleet-state',
    SLACK_API_URL: api.url,
  };
}

/** A DM to workspace w's bot whose text is `${label}-${n}`, signed now; returns the headers and raw body. */
export function signedDm(w: number, n: number, label: string): { body: string; headers: Record<string, string> } {
  return signedEvent(w, n, label, { type: 'message', channel_type: 'im', channel: `D${w}U${n % 20}`, user: `U${n % 20}`, text: `${label}-${n}` });
}

/** A mention of workspace w's bot in `channel` (a thread of its own) whose text ends in `${label}-${n}`. */
export function signedMention(w: number, n: number, label: string, channel: string): { body: string; headers: Record<string, string> } {
  return signedEvent(w, n, label, { type: 'app_mention', channel, user: `U${n % 20}`, text: `<@UBOT${w}> ${label}-${n}` });
}

function signedEvent(w: number, n: number, label: string, event: Record<string, string>): { body: string; headers: Record<string, string> } {
  const team = fleetTeam(w);
  const ts = `${1767259000 + n}.${String(n % 1_000_000).padStart(6, '0')}`;
  const body = JSON.stringify({
    token: 'x',
    team_id: team,
    api_app_id: 'A0QRMAPP01',
    event: { ...event, ts, event_ts: ts },
    type: 'event_callback',
    event_id: `Ev${label}${n}`,
    event_time: 1767259000,
    authorizations: [{ enterprise_id: null, team_id: team, user_id: `UBOT${w}`, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
  const stamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', FLEET_SIGNING_SECRET).update(`v0:${stamp}:${body}`).digest('hex')}`;
  return { body, headers: { 'content-type': 'application/json', 'x-slack-request-timestamp': String(stamp), 'x-slack-signature': signature } };
}

/** What answersByEvent has read of one fake's calls for one label: polls only read the calls since. */
interface AnswerScan {
  read: number;
  key: RegExp;
  answers: Map<string, number>;
  duplicated: number;
}
const scans = new WeakMap<FakeSlackApi, Map<string, AnswerScan>>();

/**
 * The final answers the fake Slack received, by event label (`label-n`), and how many came twice.
 * Benchmarks poll this while replies arrive: each call reads only the calls recorded since the last,
 * and the map it answers is the one it keeps filling (read it, do not change it).
 */
export function answersByEvent(api: FakeSlackApi, label: string): { answers: Map<string, number>; duplicated: number } {
  let byLabel = scans.get(api);
  if (!byLabel) scans.set(api, (byLabel = new Map()));
  let scan = byLabel.get(label);
  if (!scan) byLabel.set(label, (scan = { read: 0, key: new RegExp(`"(${label}-\\d+)"`), answers: new Map(), duplicated: 0 }));
  const { calls } = api;
  for (; scan.read < calls.length; scan.read++) {
    const call = calls[scan.read]!;
    if (call.method !== 'chat.postMessage' && call.method !== 'chat.update') continue;
    const text = messageText(call.params);
    if (!text.includes('Offline model')) continue;
    const key = scan.key.exec(text)?.[1];
    if (!key) continue;
    if (scan.answers.has(key)) scan.duplicated++;
    else scan.answers.set(key, call.at);
  }
  return { answers: scan.answers, duplicated: scan.duplicated };
}
