/**
 * The Teams app package: the manifest inside validates against Microsoft's published schema for
 * its manifestVersion (test/fixtures/schemas/teams-manifest.v1.17.schema.json, see the README
 * there), keeps every field of the template, and carries the command menu of the `/agent` grammar.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { buildPackage } from '../../adapters/teams/manifest/package.js';
import { ASK_MESSAGE_ACTION } from '../../src/core/ask.js';
import { HELP_LINES, isCommandText, isOpen, parseCommand } from '../../src/core/commands/index.js';

const appId = '7c4e2a9b-1d3f-4b6a-8e5c-9f2d1a3b5c7e';
const root = fileURLToPath(new URL('../../', import.meta.url));
const schema = JSON.parse(readFileSync(join(root, 'test/fixtures/schemas/teams-manifest.v1.17.schema.json'), 'utf8'));

function validator() {
  // The published schema is draft-04; strict mode is about writing schemas, not about the data checked.
  // Both are CommonJS: under NodeNext their classes are the `default` of the module.
  const ajv = new ajvDraft04.default({ allErrors: true, strict: false });
  ajvFormats.default(ajv);
  return ajv.compile(schema);
}

async function packagedManifest(): Promise<any> {
  const zip = await JSZip.loadAsync(await buildPackage(appId));
  expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
  return JSON.parse(await zip.file('manifest.json')!.async('string'));
}

describe('Teams app package', () => {
  it('holds a manifest that the published schema of its version accepts', async () => {
    const manifest = await packagedManifest();
    expect(manifest.manifestVersion).toBe(schema.properties.manifestVersion.const);
    expect(manifest.$schema).toBe(`https://developer.microsoft.com/en-us/json-schemas/teams/v${manifest.manifestVersion}/MicrosoftTeams.schema.json`);
    const validate = validator();
    expect(validate(manifest) ? [] : validate.errors).toEqual([]);
  });

  it('keeps the bot fields Teams needs: scopes, files, notification-only, each command list’s scope', async () => {
    const manifest = await packagedManifest();
    expect(manifest.id).toBe(appId);
    const [bot] = manifest.bots;
    expect(bot).toMatchObject({ botId: appId, scopes: ['personal', 'team', 'groupChat'], supportsFiles: false, isNotificationOnly: false });
    expect(bot.commandLists.map((l: { scopes: string[] }) => l.scopes)).toEqual([['personal'], ['team'], ['groupChat']]);
    for (const list of bot.commandLists) for (const c of list.commands) expect(c.description.length).toBeGreaterThan(10);
  });

  it('offers the /agent grammar’s menu forms, everyone’s first, each a command the grammar knows', async () => {
    const manifest = await packagedManifest();
    const commands: { title: string; description: string }[] = manifest.bots[0].commandLists[0].commands;
    const menu = HELP_LINES.filter((l) => l.menu);
    expect(commands).toHaveLength(menu.length);
    expect(commands.map((c) => c.title)).toEqual(expect.arrayContaining(['/agent help', '/agent status', '/agent forget me', '/agent limit rpm']));
    for (const c of commands) {
      const line = menu.find((l) => l.usage.startsWith(c.title))!;
      expect(line, c.title).toBeDefined();
      expect(c.description).toContain(line.summary);
      expect(c.description.startsWith('Admins: ')).toBe(!isOpen(line));
      expect(isCommandText(c.title)).toBe(true);
      // A title is the start of a command: either whole, or missing only its arguments.
      const parsed = parseCommand(c.title);
      expect(parsed.ok || (!parsed.ok && parsed.name !== null), c.title).toBe(true);
    }
    const firstAdmin = commands.findIndex((c) => c.description.startsWith('Admins: '));
    expect(commands.slice(firstAdmin).every((c) => c.description.startsWith('Admins: '))).toBe(true);
    const color = (await JSZip.loadAsync(await buildPackage(appId))).file('color.png')!;
    const png = await color.async('nodebuffer');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(192);
  });

  it('is checked by a validator that rejects what Teams rejects', async () => {
    const validate = validator();
    const manifest = await packagedManifest();
    const broken = structuredClone(manifest);
    delete broken.bots[0].commandLists[0].commands[0].description;
    broken.bots[0].commandLists[1].commands[0].title = 'x'.repeat(33);
    broken.bots[0].scopes = ['everyone'];
    expect(validate(broken)).toBe(false);
    const paths = validate.errors!.map((e: { instancePath: string }) => e.instancePath);
    expect(paths).toEqual(expect.arrayContaining(['/bots/0/commandLists/0/commands/0', '/bots/0/commandLists/1/commands/0/title', '/bots/0/scopes/0']));
  });

  it('refuses an app id that is not a GUID', async () => {
    await expect(buildPackage('not-an-id')).rejects.toThrow();
  });
});

describe('npm run teams:package', () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'adapters/teams/manifest/package.ts', ...args], { cwd: root }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

  it('without an argument says it needs the app id and where to find it', async () => {
    const { code, stderr } = await run([]);
    expect(code).toBe(1);
    expect(stderr).toContain("needs the bot's app id");
    expect(stderr).toContain('MICROSOFT_APP_ID');
    expect(stderr).toContain('Azure portal');
  });

  it('names a bad app id, and writes the package for a good one', async () => {
    const bad = await run(['my-bot']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"my-bot" is not an app id');
    const dir = mkdtempSync(join(tmpdir(), 'quorum-teams-'));
    try {
      const ok = await run([appId, join(dir, 'app.zip')]);
      expect(ok.code).toBe(0);
      const zip = await JSZip.loadAsync(readFileSync(join(dir, 'app.zip')));
      expect(JSON.parse(await zip.file('manifest.json')!.async('string')).id).toBe(appId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Teams app package: Ask Quorum about this', () => {
  it('declares the message extension action on messages, fetched as a task module, under the id the ask feature owns', async () => {
    const zip = await JSZip.loadAsync(await buildPackage(appId));
    const manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    expect(manifest.composeExtensions).toEqual([
      { botId: appId, commands: [expect.objectContaining({ id: ASK_MESSAGE_ACTION, type: 'action', context: ['message'], fetchTask: true })] },
    ]);
  });
});
