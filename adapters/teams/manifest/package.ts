/**
 * `npm run teams:package`: writes the Teams app package (manifest.json with the bot's app id,
 * and the two icons) to upload in Teams admin center or Developer Portal.
 * Usage: npm run teams:package -- <Azure Bot app id> [out.zip]
 * (An argument rather than MICROSOFT_APP_ID: src/config.ts stays the only reader of the
 * environment, and adapters do not load the service's config.)
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import JSZip from 'jszip';
import { z } from 'zod';

const here = new URL('./', import.meta.url);
const appIdSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be the Azure Bot app id (a GUID)');

/** The manifest with the app id filled in; checks the fields Teams rejects most often. */
export function renderManifest(appId: string): Record<string, unknown> {
  const id = appIdSchema.parse(appId);
  const text = readFileSync(new URL('manifest.json', here), 'utf8').replaceAll('{{MICROSOFT_APP_ID}}', id);
  const manifest = z
    .object({
      id: z.string(),
      bots: z.array(z.object({ botId: z.string(), commandLists: z.array(z.object({ commands: z.array(z.object({ title: z.string().max(32) })).max(10) })) })).length(1),
    })
    .loose()
    .parse(JSON.parse(text));
  return manifest;
}

export async function buildPackage(appId: string): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('manifest.json', JSON.stringify(renderManifest(appId), null, 2));
  for (const icon of ['color.png', 'outline.png']) zip.file(icon, readFileSync(new URL(icon, here)));
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

async function main() {
  const [appId, target] = process.argv.slice(2);
  const parsed = appIdSchema.safeParse(appId);
  if (!parsed.success) {
    process.stderr.write('Usage: npm run teams:package -- <Azure Bot app id (GUID)> [out.zip]\n');
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
