/**
 * adapters/slack/manifest.yml against Slack's published app manifest schema (fixtures in
 * test/fixtures/schemas, source named in the README there), and against what the adapter does:
 * every event it handles is subscribed, and nothing is switched on that nothing handles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ajvModule from 'ajv';
import ajvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT_TYPES } from '../../adapters/slack/handlers.js';
import { BOT_SCOPES } from '../../adapters/slack/index.js';
import { actionIdSchema } from '../../src/core/interactions.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const schemaFile = (name: string) => JSON.parse(read(`test/fixtures/schemas/${name}`));
const PUBLISHED = 'https://raw.githubusercontent.com/slackapi/manifest-schema/main/manifest.schema.json';

function validator() {
  // CommonJS under NodeNext: the classes are the modules' `default`.
  const ajv = new ajvModule.default({ allErrors: true, strict: false });
  ajvFormats.default(ajv);
  // The main schema picks a versioned one by _metadata.major_version and names it by URL.
  for (const version of ['1.0.0', '2.0.0']) {
    ajv.addSchema(schemaFile(`slack-manifest.schema.${version}.json`), `https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.${version}.json`);
  }
  return ajv.compile(schemaFile('slack-manifest.schema.json'));
}

const manifest = () => parse(read('adapters/slack/manifest.yml'));

describe('Slack app manifest', () => {
  it('names the published schema and passes it', () => {
    const m = manifest();
    expect(m.$schema).toBe(PUBLISHED);
    const validate = validator();
    expect(validate(m) ? [] : validate.errors).toEqual([]);
  });

  it('is checked by a validator that rejects what Slack rejects', () => {
    const validate = validator();
    const broken = manifest();
    broken.settings.interactivity = { request_url: 'https://example.com/slack/events' };
    broken.features.slash_commands[0].should_escape = 'yes';
    expect(validate(broken)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain('is_enabled');
  });

  it('subscribes to every event the adapter handles, and to nothing else', () => {
    const subscribed: string[] = manifest().settings.event_subscriptions.bot_events;
    for (const type of EVENT_TYPES) expect(subscribed.some((e) => e === type || e.startsWith(`${type}.`)), type).toBe(true);
    for (const event of subscribed) expect(EVENT_TYPES as readonly string[]).toContain(event.split('.')[0]);
    // Removal clean-up only happens if Slack is asked to say so.
    expect(subscribed).toEqual(expect.arrayContaining(['app_uninstalled', 'tokens_revoked']));
  });

  it('turns interactivity on for the message shortcut and buttons, and asks for the scopes the adapter uses', () => {
    const m = manifest();
    expect(m.settings.interactivity).toEqual({ is_enabled: true });
    // Each shortcut's callback_id is an action id the interaction router can own.
    for (const s of m.features.shortcuts) expect(actionIdSchema.safeParse(s.callback_id).success, s.callback_id).toBe(true);
    expect(m.features.shortcuts).toEqual([expect.objectContaining({ type: 'message', callback_id: 'ask:message' })]);
    expect([...m.oauth_config.scopes.bot].sort()).toEqual([...BOT_SCOPES].sort());
    expect(m.features.slash_commands).toEqual([expect.objectContaining({ command: '/agent', should_escape: true })]);
  });
});
