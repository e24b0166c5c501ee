/**
 * FileSource for Slack: `files.info` first, as the bot. A file Slack will not show the bot
 * (file_not_found, file_deleted, no access), a file of another workspace, or one not shared in
 * the conversation the turn is in is never downloaded. Then `url_private` with the bot token,
 * only from Slack's own file hosts (or the configured API host: GovSlack, tests), bounded.
 */
import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import type { FileRef } from '../../src/core/envelope.js';
import type { FetchedFile, FileSource } from '../../src/core/ports.js';
import { downloadBounded } from '../../src/http/download.js';
import { slackError } from './history.js';
import type { TokenSource } from './tokens.js';

const infoSchema = z.object({
  file: z.object({
    id: z.string(),
    name: z.string().nullish(),
    title: z.string().nullish(),
    mimetype: z.string().nullish(),
    size: z.number().nullish(),
    url_private: z.string().nullish(),
    url_private_download: z.string().nullish(),
    user_team: z.string().nullish(),
    channels: z.array(z.string()).nullish(),
    groups: z.array(z.string()).nullish(),
    ims: z.array(z.string()).nullish(),
    shares: z.object({ public: z.record(z.string(), z.unknown()).optional(), private: z.record(z.string(), z.unknown()).optional() }).nullish(),
  }),
});
type SlackFile = z.infer<typeof infoSchema>['file'];

/** What Slack answers for a file the bot may not see. */
const NOT_VISIBLE = new Set(['file_not_found', 'file_deleted', 'access_denied', 'not_visible', 'file_not_shared']);

export interface FileSourceOptions {
  client: webApi.WebClient;
  tokens: TokenSource;
  /** SLACK_API_URL: its host may serve files too (GovSlack, a test's fake Slack). */
  apiUrl: string;
}

export function createFileSource(options: FileSourceOptions): FileSource {
  const apiHost = new URL(options.apiUrl).host;
  return {
    async fetch(where, ref, maxBytes): Promise<FetchedFile> {
      const { token } = await options.tokens.forWorkspace(where.workspace);
      let file: SlackFile;
      try {
        file = infoSchema.parse(await options.client.files.info({ token, file: ref.id })).file;
      } catch (err) {
        const code = slackError(err);
        return NOT_VISIBLE.has(code) ? { kind: 'not_visible' } : { kind: 'failed', reason: `Slack files.info: ${code}` };
      }
      // Slack Connect: a file of another organization is not read, even in a shared channel.
      if (file.id !== ref.id || (file.user_team && file.user_team !== where.workspace.externalId)) return { kind: 'not_visible' };
      if (!sharedIn(file, where.channel.id)) return { kind: 'not_visible' };
      if (file.size && file.size > maxBytes) return { kind: 'too_large', size: file.size };
      const url = file.url_private_download ?? file.url_private;
      if (!url || !slackFileHost(url, apiHost)) return { kind: 'failed', reason: 'Slack named no download address of its own' };
      const got = await downloadBounded(url, { headers: { authorization: `Bearer ${token}` }, maxBytes });
      if (got.kind !== 'ok') return got;
      // A sign-in page instead of the file: the token was not accepted for it.
      if (got.contentType.startsWith('text/html') && !isHtml(file, ref)) return { kind: 'failed', reason: 'Slack did not hand over the file' };
      return { kind: 'ok', bytes: got.bytes, name: file.name ?? file.title ?? ref.name, mimetype: file.mimetype ?? ref.mimetype };
    },
  };
}

/** Whether Slack lists the conversation among the places the file is shared (as the bot sees them). */
function sharedIn(file: SlackFile, channelId: string): boolean {
  const places = [...(file.channels ?? []), ...(file.groups ?? []), ...(file.ims ?? []), ...Object.keys(file.shares?.public ?? {}), ...Object.keys(file.shares?.private ?? {})];
  return places.includes(channelId);
}

/** Slack's file hosts (files.slack.com, GovSlack's), or the configured API's own host; https unless it is that host. */
export function slackFileHost(url: string, apiHost: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.host === apiHost) return true;
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password) return false;
  return /(^|\.)slack\.com$|(^|\.)slack-gov\.com$/.test(parsed.hostname);
}

const isHtml = (file: SlackFile, ref: FileRef): boolean => (file.mimetype ?? ref.mimetype).startsWith('text/html');
