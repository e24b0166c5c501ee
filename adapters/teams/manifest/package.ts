/**
 * `npm run teams:package`: writes the Teams app package (manifest.json with the bot's app id,
 * the command menu from the `/agent` grammar, and the two icons) to upload in Teams admin center
 * or Developer Portal.
 * Usage: npm run teams:package -- <Azure Bot app id> [out.zip]
 * (An argument rather than MICROSOFT_APP_ID: src/config.ts stays the only reader of the
 * environment, and adapters do not load the service's config.)
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import JSZip from 'jszip';
import { z } from 'zod';
import { HELP_LINES, isOpen, type HelpLine } from '../../../src/core/commands/index.js';

const here = new URL('./', import.meta.url);
const appIdSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be the Azure Bot app id (a GUID)');

const SCOPES = ['personal', 'team', 'groupChat'] as const;
/** Teams' limits for a bot command menu (manifest schema: commands per list, title, description). */
const MENU = { commands: 10, title: 32, description: 128 };

/** `/agent limit rpm N` → `/agent limit rpm`: the words a person picks before typing the arguments. */
function menuTitle(usage: string): string {
  const words = usage.split(' ');
  const fixed = words.findIndex((w) => /[A-Z@#[|]/.test(w));
  return words.slice(0, fixed === -1 ? words.length : fixed).join(' ');
}

/** The grammar's menu forms, everyone's first: one list per scope, as Teams asks. */
export function commandLists(lines: readonly HelpLine[] = HELP_LINES) {
  const chosen = lines.filter((l) => l.menu).sort((a, b) => Number(isOpen(b)) - Number(isOpen(a)));
  if (chosen.length > MENU.commands) throw new Error(`the Teams command menu holds ${MENU.commands} commands, the grammar marks ${chosen.length}`);
  const commands = chosen.map((l) => {
    const title = menuTitle(l.usage);
    const summary = `${isOpen(l) ? '' : 'Admins: '}${l.summary}`;
    // The arguments to type after the title, where they fit.
    const full = title === l.usage ? summary : `${summary}: ${l.usage}`;
    return { title: title.slice(0, MENU.title), description: (full.length <= MENU.description ? full : summary).slice(0, MENU.description) };
  });
  return SCOPES.map((scope) => ({ scopes: [scope], commands }));
}

/**
 * The manifest with the app id and the command menu filled in. The template is kept whole (no
 * schema parse that would drop fields it does not know); test/teams/manifest.test.ts validates
 * the result against Microsoft's published schema for its manifestVersion.
 */
export function renderManifest(appId: string): Record<string, unknown> {
  const id = appIdSchema.parse(appId);
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', here), 'utf8').replaceAll('{{MICROSOFT_APP_ID}}', id)) as {
    bots: Record<string, unknown>[];
  } & Record<string, unknown>;
  manifest.bots = manifest.bots.map((bot) => ({ ...bot, commandLists: commandLists() }));
  return manifest;
}

export async function buildPackage(appId: string): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('manifest.json', JSON.stringify(renderManifest(appId), null, 2));
  for (const icon of ['color.png', 'outline.png']) zip.file(icon, readFileSync(new URL(icon, here)));
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

export const USAGE = `Usage: npm run teams:package -- <app id> [out.zip]   (default out: dist/quorum-teams.zip)

The app id is your Azure Bot's Microsoft App ID, a GUID like 7c4e2a9b-1d3f-4b6a-8e5c-9f2d1a3b5c7e:
the same value as MICROSOFT_APP_ID in Quorum's environment. Find it in the Azure portal (your Azure
Bot resource > Settings > Configuration > Microsoft App ID) or in the Teams Developer Portal
(Tools > Bot management). README "Connect Teams" has the whole recipe.
`;

async function main() {
  const [appId, target] = process.argv.slice(2);
  if (!appId || appId === '--help' || appId === '-h') {
    process.stderr.write(`npm run teams:package needs the bot's app id.\n\n${USAGE}`);
    process.exit(1);
  }
  const parsed = appIdSchema.safeParse(appId);
  if (!parsed.success) {
    process.stderr.write(`"${appId.slice(0, 60)}" is not an app id: it must be a GUID.\n\n${USAGE}`);
    process.exit(1);
  }
  const out = resolve(target ?? 'dist/quorum-teams.zip');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, await buildPackage(parsed.data));
  process.stdout.write(`Teams app package written to ${out}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
