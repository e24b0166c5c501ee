/**
 * Files of Teams activities. In a 1:1 chat Teams sends a file as `file.download.info` with a
 * short-lived, pre-authorised `downloadUrl` (on SharePoint/OneDrive): fetched without any token,
 * kept only in the inbox row (transient). Pictures and files by address (`contentUrl`: a picture
 * pasted into a message, on the Bot Connector's hosts) are fetched with the bot's token, signed
 * through the adapter's credentials, only on MICROSOFT_SERVICE_URL_HOSTS. Files shared in
 * channels live on SharePoint and are read through Microsoft Graph (graph-files.ts), only from the
 * channel's own files folder. The message's own HTML copy and cards are not files.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FileRef } from '../../src/core/envelope.js';
import type { FetchedFile, FileSource } from '../../src/core/ports.js';
import { downloadBounded } from '../../src/http/download.js';
import { hostMatches, type ServiceUrlCheck } from './service-url.js';
import { readChannelFile, type GraphAccess } from './graph-files.js';
import { keys, type TeamsRuntime } from './runtime.js';

export const FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';

const attachmentSchema = z
  .object({
    contentType: z.string(),
    contentUrl: z.string().optional(),
    name: z.string().optional(),
    content: z.unknown().optional(),
  })
  .loose();
const downloadInfoSchema = z.object({ downloadUrl: z.string(), uniqueId: z.string().optional(), fileType: z.string().optional() }).loose();

/** Where OneDrive and SharePoint serve a 1:1 file's pre-authorised link. */
const DOWNLOAD_HOSTS = ['*.sharepoint.com', '*.sharepoint.us', '*.sharepoint-df.com', '*.svc.ms'];

const sourceSchema = z.discriminatedUnion('via', [
  z.object({ via: z.literal('download') }),
  z.object({ via: z.literal('url'), url: z.string(), conversationKey: z.string() }),
]);

/** The activity's attachments that are files, as the core's refs. */
export function fileRefsOfActivity(attachments: unknown, conversationKey: string, max: number): FileRef[] {
  const parsed = z.array(z.unknown()).safeParse(attachments);
  if (!parsed.success) return [];
  const refs: FileRef[] = [];
  for (const raw of parsed.data) {
    const a = attachmentSchema.safeParse(raw);
    const ref = a.success ? refOf(a.data, conversationKey) : null;
    if (ref && refs.length < max) refs.push(ref);
  }
  return refs;
}

function refOf(a: z.infer<typeof attachmentSchema>, conversationKey: string): FileRef | null {
  const type = a.contentType.toLowerCase();
  if (type === FILE_DOWNLOAD_INFO) {
    const info = downloadInfoSchema.safeParse(a.content);
    if (!info.success) return null;
    const name = (a.name ?? 'file').slice(0, 512);
    return { id: idOf(info.data.uniqueId ?? a.contentUrl ?? info.data.downloadUrl), name, mimetype: '', source: { via: 'download' }, transient: { url: info.data.downloadUrl } };
  }
  // Pictures and files by address: cards (application/vnd.microsoft.card.*) and the HTML copy are not files.
  const file = type === 'reference' || type.startsWith('image/') || (type.startsWith('application/') && !type.startsWith('application/vnd.microsoft.card'));
  if (!file || !a.contentUrl) return null;
  const mimetype = type === 'reference' ? '' : type.slice(0, 256);
  return { id: idOf(a.contentUrl), name: (a.name ?? (type.startsWith('image/') ? 'image' : 'file')).slice(0, 512), mimetype, source: { via: 'url', url: a.contentUrl, conversationKey } };
}

const idOf = (value: string): string => createHash('sha256').update(value).digest('base64url').slice(0, 32);

export function createFileSource(runtime: TeamsRuntime, serviceUrlAllowed: ServiceUrlCheck, graph: GraphAccess | null): FileSource {
  return {
    async fetch(where, ref, maxBytes): Promise<FetchedFile> {
      const source = sourceSchema.safeParse(ref.source);
      if (!source.success) return { kind: 'failed', reason: 'Teams did not say where the file is' };
      if (source.data.via === 'download') {
        const url = z.object({ url: z.string() }).safeParse(ref.transient);
        if (!url.success) return { kind: 'failed', reason: 'its download link is gone; share the file again' };
        if (!downloadHostAllowed(url.data.url, serviceUrlAllowed)) return { kind: 'not_visible' };
        return named(await downloadBounded(url.data.url, { maxBytes }), ref);
      }
      const { url, conversationKey } = source.data;
      // The bot's token goes only where a serviceUrl may point: the same allow-list.
      if (!serviceUrlAllowed(url)) {
        if (!onHosts(url, DOWNLOAD_HOSTS)) return { kind: 'not_visible' };
        // Only a channel's files folder is open to everyone who sees the message; a chat's link points into someone's own OneDrive.
        if (where.channel.kind !== 'channel') return { kind: 'failed', reason: 'files linked in Teams chats are read only when sent in a 1:1 chat with Quorum' };
        if (!graph) return { kind: 'failed', reason: 'files shared in Teams channels are read through Microsoft Graph, which this installation does not reach (it needs the app password)' };
        const team = z.object({ groupId: z.string() }).safeParse(await runtime.refs.load(where.workspace, keys.team(conversationKey)));
        if (!team.success) return { kind: 'failed', reason: "Quorum does not know this channel's team yet; reinstalling the app in the team tells it" };
        return readChannelFile(graph, {
          tenantId: where.workspace.externalId,
          groupId: team.data.groupId,
          channelId: where.channel.id,
          url,
          maxBytes,
          downloadAllowed: (link) => downloadHostAllowed(link, serviceUrlAllowed),
        });
      }
      const stored = await runtime.loadConversation(where.workspace, conversationKey);
      if (!stored) return { kind: 'failed', reason: 'Quorum has no record of this conversation' };
      const authorization = await runtime.inConversation(stored.reference, (context) => signedHeader(context, url));
      return named(await downloadBounded(url, { maxBytes, headers: authorization ? { authorization } : {} }), ref);
    },
  };
}

/** https on OneDrive/SharePoint, or a host the service-URL allow-list admits (the Emulator, tests). */
function downloadHostAllowed(url: string, serviceUrlAllowed: ServiceUrlCheck): boolean {
  return serviceUrlAllowed(url) || onHosts(url, DOWNLOAD_HOSTS);
}

function onHosts(url: string, hosts: readonly string[]): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && !parsed.username && !parsed.password && hosts.some((p) => hostMatches(parsed.hostname, p));
  } catch {
    return false;
  }
}

type Signer = { signRequest(request: { url: string; headers: { set(name: string, value: string): void } }): Promise<unknown> };

/** The Authorization header the turn's connector client would send to `url` (none with auth off). */
async function signedHeader(context: { adapter: { ConnectorClientKey: symbol }; turnState: Map<unknown, unknown> }, url: string): Promise<string | null> {
  const client = context.turnState.get(context.adapter.ConnectorClientKey) as { credentials?: Signer } | undefined;
  let header: string | null = null;
  await client?.credentials?.signRequest({ url, headers: { set: (name, value) => void (name.toLowerCase() === 'authorization' && (header = value)) } });
  return header;
}

function named(got: Awaited<ReturnType<typeof downloadBounded>>, ref: FileRef): FetchedFile {
  if (got.kind !== 'ok') return got;
  const contentType = got.contentType.split(';')[0]!.trim();
  return { kind: 'ok', bytes: got.bytes, name: ref.name, mimetype: ref.mimetype || (contentType === 'application/octet-stream' ? '' : contentType) };
}
