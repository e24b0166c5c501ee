/**
 * Quorum answers Teams only at Bot Connector hosts (MICROSOFT_SERVICE_URL_HOSTS): an activity that
 * names another serviceUrl, or none, is refused before anything is stored, and the bot's token is
 * never signed onto a request to another host, whatever asks for it.
 */
import { describe, expect, it } from 'vitest';
import { createCloudAdapter } from '../../adapters/teams/auth.js';
import { hostMatches, serviceUrlCheck } from '../../adapters/teams/service-url.js';
import { loadConfig } from '../../src/config.js';
import { inbox } from '../../src/db/schema.js';
import { FakeBotConnector } from '../fakes/bot-connector.js';
import { FakeBotIdentity } from '../fakes/bot-openid.js';
import { drivers } from '../support/db.js';
import { useSetup } from '../support/setup.js';
import { waitFor } from '../support/wait.js';
import { activity, APP_ID, CONTOSO, useTeams } from './helpers.js';

describe('service URL allow-list', () => {
  it('matches hosts exactly and *.domain below the domain only', () => {
    expect(hostMatches('smba.trafficmanager.net', 'smba.trafficmanager.net')).toBe(true);
    expect(hostMatches('europe.webchat.botframework.com', '*.botframework.com')).toBe(true);
    expect(hostMatches('botframework.com', '*.botframework.com')).toBe(false);
    expect(hostMatches('evilbotframework.com', '*.botframework.com')).toBe(false);
    expect(hostMatches('botframework.com.attacker.example', '*.botframework.com')).toBe(false);
    expect(hostMatches('smba.trafficmanager.net.attacker.example', 'smba.trafficmanager.net')).toBe(false);
  });

  it('defaults to the Bot Framework and Teams service hosts, public and government', () => {
    const allowed = serviceUrlCheck(loadConfig({}).MICROSOFT_SERVICE_URL_HOSTS);
    for (const ok of [
      'https://smba.trafficmanager.net/amer/',
      'https://smba.trafficmanager.net/emea/3f8d2c1a-5b7e-4d9f-8a6c-2e4b1d7f9a3c/',
      'https://smba.infra.gcc.teams.microsoft.com/teams',
      'https://smba.infra.gov.teams.microsoft.us/teams',
      'https://smba.infra.dod.teams.microsoft.us/teams',
      'https://webchat.botframework.com/',
    ]) expect(allowed(ok), ok).toBe(true);
    for (const bad of [
      'http://smba.trafficmanager.net/amer/', // no TLS
      'https://user:pw@smba.trafficmanager.net/amer/',
      'https://attacker.example/',
      'https://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:8080/', // loopback only when listed
      'not a url',
      '',
    ]) expect(allowed(bad), bad).toBe(false);
  });

  it('refuses a pattern that is not a host name', () => {
    expect(() => loadConfig({ MICROSOFT_SERVICE_URL_HOSTS: 'https://x.example/,*.ok.example' })).toThrow(/MICROSOFT_SERVICE_URL_HOSTS/);
    expect(loadConfig({ MICROSOFT_SERVICE_URL_HOSTS: ' a.example , *.b.example ' }).MICROSOFT_SERVICE_URL_HOSTS).toEqual(['a.example', '*.b.example']);
  });
});

describe.each(drivers)('Teams activities and their serviceUrl (%s)', (driver) => {
  const t = useTeams(driver);
  // The same fake connector under a name the allow-list does not hold: a host of the sender's choosing.
  const attacker = () => t.teams.connector.url.replace('127.0.0.1', 'localhost');
  const stored = async () => (await t.db.db.select().from(inbox)).length;
  const fresh = (serviceUrl: string) => activity('personal_message', serviceUrl, (a) => (a.id = `svc-${Math.random()}`));

  it('answers an activity from an allowed host', async () => {
    const a = fresh(t.teams.connector.url);
    expect((await t.teams.post(a)).status).toBe(200);
    await waitFor(() => t.teams.connector.messages().some((p) => p.replyToId === a.id));
  });

  it('refuses a validly signed activity whose serviceUrl is another host: nothing stored, nothing called', async () => {
    const before = await stored();
    const requests = t.teams.connector.requests.length;
    const a = fresh(attacker());
    const res = await t.teams.post(a, `Bearer ${t.teams.identity.token({ serviceUrl: attacker() })}`);
    expect(res.status).toBe(403);
    const update = activity('conversation_update_members_added', attacker());
    expect((await t.teams.post(update, `Bearer ${t.teams.identity.token({ serviceUrl: attacker() })}`)).status).toBe(403);
    expect(await stored()).toBe(before);
    expect(t.teams.connector.requests.length).toBe(requests);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
  ])('refuses an activity whose serviceUrl is %s, though its token carries the same empty claim', async (_name, serviceUrl) => {
    const before = await stored();
    const a = fresh('');
    a.serviceUrl = serviceUrl;
    const res = await t.teams.post(a, `Bearer ${t.teams.identity.token({ serviceUrl })}`);
    expect(res.status).toBe(401);
    delete a.serviceUrl;
    expect((await t.teams.post(a, `Bearer ${t.teams.identity.token({ serviceUrl: '' })}`)).status).toBe(401);
    expect(await stored()).toBe(before);
  });

  it("refuses an activity whose serviceUrl differs from its token's claim", async () => {
    const before = await stored();
    const a = fresh(t.teams.connector.url);
    const res = await t.teams.post(a, `Bearer ${t.teams.identity.token({ serviceUrl: `${t.teams.connector.url}other/` })}`);
    expect(res.status).toBe(401);
    expect(await stored()).toBe(before);
  });
});

describe('the bot token is signed only onto allowed hosts', () => {
  const s = useSetup(async (cleanup) => {
    const identity = new FakeBotIdentity(APP_ID);
    await identity.start();
    cleanup(() => identity.stop());
    const elsewhere = new FakeBotConnector();
    await elsewhere.start();
    cleanup(() => elsewhere.stop());
    return { identity, elsewhere };
  });

  it('a proactive message to a stored reference on another host is refused before any request', async () => {
    const adapter = createCloudAdapter(
      { appId: APP_ID, password: 'pw', tenantId: CONTOSO, appType: 'MultiTenant', production: true, serviceUrlHosts: ['smba.trafficmanager.net'] },
      { settings: s.identity.settings(), credentialsFactory: s.identity.credentialsFactory() },
    );
    const reference = { serviceUrl: s.elsewhere.url, channelId: 'msteams', conversation: { id: 'a:1xyz' }, bot: { id: '28:bot' } };
    await expect(
      adapter.continueConversationAsync(APP_ID, reference as never, async (context) => {
        await context.sendActivity('hello');
      }),
    ).rejects.toThrow(/MICROSOFT_SERVICE_URL_HOSTS/);
    expect(s.elsewhere.requests).toHaveLength(0);
  });
});
