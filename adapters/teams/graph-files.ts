/**
 * Files shared in Teams channels: Teams sends only their SharePoint address (`reference`), and
 * SharePoint answers only Microsoft Graph. Quorum asks Graph with the app's own token for the
 * tenant (client credentials; the app's resource-specific consent `File.Read.Group` in the
 * manifest scopes it to teams that installed Quorum) and reads a file only when it lies in the
 * files folder of the channel the message came from, which every member of that channel can
 * open: an address pasted from another channel or team is never read. The bytes come from the
 * item's short-lived pre-authorised download link, without the token.
 */
import { ConfigurationServiceClientCredentialFactory } from 'botbuilder';
import { z } from 'zod';
import type { FetchedFile } from '../../src/core/ports.js';
import { downloadBounded } from '../../src/http/download.js';
import type { TeamsApp } from './auth.js';

export interface GraphAccess {
  /** Graph's API root, e.g. https://graph.microsoft.com/v1.0 (a fake on 127.0.0.1 in tests). */
  baseUrl: string;
  /** An app-only Graph token issued by the tenant. */
  token(tenantId: string): Promise<string>;
}

export const GRAPH_API = 'https://graph.microsoft.com/v1.0';

/** Graph through the bot's own app registration (client secret); none for a managed identity or with auth off. */
export function graphAccessOf(app: TeamsApp): GraphAccess | null {
  if (!app.appId || !app.password || app.appType === 'UserAssignedMSI') return null;
  const { appId, password } = app;
  type Signer = { signRequest(request: { url: string; headers: { set(name: string, value: string): void } }): Promise<unknown> };
  // Per tenant: a Graph token must come from the tenant whose files it reads. Each credential caches its token.
  const byTenant = new Map<string, Promise<Signer>>();
  return {
    baseUrl: GRAPH_API,
    async token(tenantId) {
      let credentials = byTenant.get(tenantId);
      if (!credentials) {
        const factory = new ConfigurationServiceClientCredentialFactory({ MicrosoftAppId: appId, MicrosoftAppPassword: password, MicrosoftAppType: 'SingleTenant', MicrosoftAppTenantId: tenantId });
        credentials = factory.createCredentials(appId, 'https://graph.microsoft.com', `https://login.microsoftonline.com/${tenantId}`, true) as Promise<Signer>;
        byTenant.set(tenantId, credentials);
        credentials.catch(() => byTenant.delete(tenantId));
      }
      let header = '';
      await (await credentials).signRequest({ url: GRAPH_API, headers: { set: (name, value) => void (name.toLowerCase() === 'authorization' && (header = value)) } });
      if (!header.startsWith('Bearer ')) throw new Error('no Graph token');
      return header.slice('Bearer '.length);
    },
  };
}

const parentSchema = z.object({ driveId: z.string(), path: z.string().optional() }).loose();
const folderSchema = z.object({ name: z.string(), parentReference: parentSchema }).loose();
const itemSchema = z
  .object({
    name: z.string(),
    size: z.number().optional(),
    file: z.object({ mimeType: z.string().optional() }).loose().optional(),
    parentReference: parentSchema,
    '@microsoft.graph.downloadUrl': z.string().optional(),
  })
  .loose();

/** Graph's answers are small JSON documents; anything bigger is not one. */
const MAX_JSON_BYTES = 256 * 1024;

type Answer<T> = { ok: true; value: T } | { ok: false; status: 'missing' | 'failed'; reason: string };

async function getJson<T>(url: string, token: string, schema: z.ZodType<T>): Promise<Answer<T>> {
  const got = await downloadBounded(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, maxBytes: MAX_JSON_BYTES, timeoutMs: 15_000 });
  if (got.kind === 'failed') {
    const missing = /HTTP (403|404)$/.test(got.reason);
    return { ok: false, status: missing ? 'missing' : 'failed', reason: got.reason.replace('the file host', 'Microsoft Graph') };
  }
  if (got.kind !== 'ok') return { ok: false, status: 'failed', reason: 'Microsoft Graph answered too much' };
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(got.bytes).toString('utf8')));
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, status: 'failed', reason: 'Microsoft Graph answered in an unexpected shape' };
  } catch {
    return { ok: false, status: 'failed', reason: 'Microsoft Graph answered in an unexpected shape' };
  }
}

/** The part of a drive path below the drive's root, decoded: `/General/specs`. */
function belowRoot(path: string | undefined): string | null {
  if (path === undefined) return null;
  const at = path.indexOf('root:');
  if (at === -1) return null;
  try {
    return decodeURIComponent(path.slice(at + 'root:'.length));
  } catch {
    return null;
  }
}

export interface ChannelFileRequest {
  tenantId: string;
  /** The team's Microsoft 365 group id (aadGroupId). */
  groupId: string;
  channelId: string;
  /** The SharePoint address Teams sent. */
  url: string;
  maxBytes: number;
  /** Where the pre-authorised download link may point (SharePoint, or this machine in tests). */
  downloadAllowed: (url: string) => boolean;
}

export async function readChannelFile(graph: GraphAccess, request: ChannelFileRequest): Promise<Exclude<FetchedFile, { kind: 'ok' }> | { kind: 'ok'; bytes: Uint8Array; name: string; mimetype: string }> {
  let token: string;
  try {
    token = await graph.token(request.tenantId);
  } catch {
    return { kind: 'failed', reason: 'Quorum could not sign in to Microsoft Graph' };
  }
  const folderUrl = `${graph.baseUrl}/teams/${encodeURIComponent(request.groupId)}/channels/${encodeURIComponent(request.channelId)}/filesFolder`;
  // Graph's sharing id: "u!" and the address in unpadded base64url.
  const itemUrl = `${graph.baseUrl}/shares/u!${Buffer.from(request.url, 'utf8').toString('base64url')}/driveItem`;
  const [folder, item] = await Promise.all([getJson(folderUrl, token, folderSchema), getJson(itemUrl, token, itemSchema)]);
  if (!item.ok) return item.status === 'missing' ? { kind: 'not_visible' } : { kind: 'failed', reason: item.reason };
  if (!folder.ok) return { kind: 'failed', reason: folder.status === 'missing' ? "Microsoft Graph did not show this channel's files folder" : folder.reason };
  const folderPath = belowRoot(folder.value.parentReference.path);
  const itemPath = belowRoot(item.value.parentReference.path);
  const inFolder =
    folderPath !== null &&
    itemPath !== null &&
    item.value.parentReference.driveId === folder.value.parentReference.driveId &&
    (itemPath === `${folderPath}/${folder.value.name}` || itemPath.startsWith(`${folderPath}/${folder.value.name}/`));
  if (!inFolder) return { kind: 'not_visible' };
  if (item.value.size !== undefined && item.value.size > request.maxBytes) return { kind: 'too_large', size: item.value.size };
  const link = item.value['@microsoft.graph.downloadUrl'];
  if (!link) return { kind: 'failed', reason: 'Microsoft Graph gave no download link (is it a folder?)' };
  if (!request.downloadAllowed(link)) return { kind: 'failed', reason: 'Microsoft Graph pointed the download somewhere else' };
  const got = await downloadBounded(link, { maxBytes: request.maxBytes });
  if (got.kind !== 'ok') return got;
  return { kind: 'ok', bytes: got.bytes, name: item.value.name.slice(0, 512), mimetype: item.value.file?.mimeType ?? '' };
}
