/**
 * `/agent connections link NAME` through signed Slack requests: the first person to use a per-user
 * connection can link their own account before anyone has (a per-user server lists its tools only
 * to a linked caller, so no tool call could have prompted them yet). The slash command answers
 * ephemerally with the link button, its block_actions opens the private token modal, the
 * view_submission links the account, and the person's next DM turn reaches the server with their
 * own token, which is what the server received.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolCall } from '../../src/core/ports.js';
import { FakeMcpServer } from '../fakes/mcp-server.js';
import { drivers } from '../support/db.js';
import { toolScript } from '../support/tool-script.js';
import { waitFor } from '../support/wait.js';
import { freshEvent, interactionFixture, interactionForm, postSlack, slashCommand, useSlackApp } from '../slack/support.js';

const TOKEN = 'tok-dana-6c1e';
const MARCUS = 'U0ACMEADM1';
const DANA = 'U0ACMEMEM1';

let server: FakeMcpServer;
beforeAll(async () => {
  server = await new FakeMcpServer([{ name: 'whoami', readOnly: true }]).start();
});
afterAll(() => server?.stop());

describe.each(drivers)('linking your own account with /agent connections link (%s)', (driver) => {
  let wanted: ToolCall | null = null;
  const s = useSlackApp(driver, () => ({ model: toolScript(() => wanted), env: { TOOLS_ALLOW_PRIVATE_NETWORKS: 'true', SLACK_BOT_TOKEN: 'xoxb-acme-single' } }));

  const slash = (user: string, text: string) => slashCommand(s.app, text, { user });


  it('offers the link privately, links through the modal, and the next call carries that person\'s own token', async () => {
    expect((await slash(MARCUS, `connect tix ${server.url} auth per-user`)).text).toContain('Connected tix');
    expect((await slash(MARCUS, 'tools all allow tix.*')).text).toContain('allow');
    const before = await slash(DANA, 'connections');
    expect(before.text).toContain('tix: not linked');
    expect(before.text).toContain('/agent connections link NAME');

    const offered = await slash(DANA, 'connections link tix');
    expect(offered.response_type).toBe('ephemeral');
    expect(offered.text).toContain('yours is not linked yet');
    const buttons = offered.blocks!.find((b) => b.type === 'actions').elements;
    expect(buttons).toEqual([expect.objectContaining({ action_id: 'credentials:link', value: 'tix' })]);

    const click = interactionFixture('block_actions', s.api, (p) => {
      p.user.id = DANA;
      p.actions[0].action_id = 'credentials:link';
      p.actions[0].value = 'tix';
      p.container.is_ephemeral = true;
      delete p.message;
    });
    expect((await postSlack(s.app, interactionForm(click))).status).toBe(200);
    const opened = await waitFor(() => s.api.called('views.open').find((c) => c.params.trigger_id === click.trigger_id));
    const view = JSON.parse(opened.params.view!);
    expect(view.callback_id).toBe('credentials:token');
    const submit = interactionFixture('view_submission', s.api, (p) => {
      p.user.id = DANA;
      p.view.callback_id = view.callback_id;
      p.view.private_metadata = view.private_metadata;
      p.view.state.values = { secret: { secret: { type: 'plain_text_input', value: TOKEN } } };
    });
    expect((await postSlack(s.app, interactionForm(submit))).status).toBe(200);
    await waitFor(async () => (await slash(DANA, 'connections')).text.includes('tix: linked (your own account)'));

    // Her DM turn lists the server's tools through her link and calls it with her token.
    wanted = { toolName: 'tix.whoami', input: {} };
    const calls = server.callsOf('whoami').length;
    expect((await postSlack(s.app, freshEvent('message_im', { text: 'who am I on tix?', user: DANA }))).status).toBe(200);
    await waitFor(() => server.callsOf('whoami').length > calls);
    expect(server.calls.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('says why when there is nothing to link', async () => {
    expect((await slash(DANA, 'connections link nosuch')).text).toBe('Nothing to link: no connection named nosuch.');
    expect((await slash(MARCUS, `connect open ${server.url}`)).text).toContain('Connected open');
    expect((await slash(DANA, 'connections link open')).text).toContain("Nothing to link: open does not use each person's own account");
  });
});
