/**
 * Files to one user privately in Teams (PlatformPorts.sendFile): a bot cannot attach a file to a
 * message, so Quorum sends a file consent card into the user's 1:1 chat and keeps the file until
 * they answer. Accepting makes Teams send an `invoke` named `fileConsent/invoke` with an upload
 * URL in the user's OneDrive: Quorum PUTs the bytes there (one Content-Range) and posts a file
 * info card. The file waits in the database (the conversation references, under its own key) for
 * an hour, so that the answer may reach any instance, also after a restart; it is taken once.
 */
import { randomBytes } from 'node:crypto';
import { ActivityTypes, TurnContext, type ConversationReference } from 'botbuilder';
import { z } from 'zod';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import { QuorumError } from '../../src/core/errors.js';
import type { OutgoingFile, PlatformPorts } from '../../src/core/ports.js';
import { tenantOf, workspaceOf, type TeamsActivity } from './activity.js';
import { safely } from './replies.js';
import { keys, type TeamsRuntime } from './runtime.js';

export const FILE_CONSENT_CARD = 'application/vnd.microsoft.teams.card.file.consent';
export const FILE_INFO_CARD = 'application/vnd.microsoft.teams.card.file.info';

const consentValue = z.object({
  type: z.literal('fileUpload'),
  action: z.enum(['accept', 'decline']),
  context: z.object({ fileId: z.string().regex(/^[0-9a-f]{32}$/) }).loose(),
  uploadInfo: z
    .object({ uploadUrl: z.url(), contentUrl: z.string().min(1), name: z.string().min(1), uniqueId: z.string().optional(), fileType: z.string().optional() })
    .loose()
    .optional(),
});

/** How long an offered file waits for its answer. */
const HELD_MS = 60 * 60_000;

const heldFile = z.object({
  userId: z.string(),
  expiresAt: z.number(),
  file: z.object({ name: z.string(), title: z.string(), content: z.string() }),
});

/** Keyed by the user: a new offer replaces their earlier unanswered one, so at most one file per user waits. */
const heldPrefix = (userId: string) => `file:${userId}:`;
const heldKey = (userId: string, fileId: string) => `${heldPrefix(userId)}${fileId}`;

/** The invoke's answer: Teams wants a 200 within its time limit whatever happened. */
export type InvokeOutcome = { status: number; body?: unknown };

/** The upload URL is Teams' (OneDrive, over HTTPS); plain HTTP only to this machine (tests, local). */
function uploadAllowed(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname));
}

export function createFileConsent(runtime: TeamsRuntime) {
  /** The offered file, taken once: of two instances answering the same card, one gets it. */
  async function take(workspace: WorkspaceRef, fileId: string, userId: string | undefined): Promise<OutgoingFile | null> {
    if (!userId) return null;
    const held = heldFile.safeParse(await runtime.refs.load(workspace, heldKey(userId, fileId)));
    if (!held.success || held.data.userId !== userId) return null;
    if ((await runtime.refs.remove(workspace, heldKey(userId, fileId))) !== 1 || held.data.expiresAt < Date.now()) return null;
    return { ...held.data.file };
  }

  const sendFile: NonNullable<PlatformPorts['sendFile']> = async (workspace, userId, file) => {
    const personal = (await runtime.refs.load(workspace, keys.personal(userId)))?.conversationKey;
    const chat = typeof personal === 'string' ? await runtime.loadConversation(workspace, personal) : null;
    if (!chat || chat.kind !== 'personal') return { kind: 'unreachable' };
    const fileId = randomBytes(16).toString('hex');
    await runtime.refs.remove(workspace, heldPrefix(userId));
    await runtime.refs.save(workspace, heldKey(userId, fileId), { userId, expiresAt: Date.now() + HELD_MS, file: { name: file.name, title: file.title, content: file.content } });
    const card = {
      contentType: FILE_CONSENT_CARD,
      name: file.name,
      content: { description: file.title, sizeInBytes: Buffer.byteLength(file.content), acceptContext: { fileId }, declineContext: { fileId } },
    };
    try {
      await runtime.inConversation(chat.reference, async (context) => {
        const activity = TurnContext.applyConversationReference(safely({ type: ActivityTypes.Message, attachments: [card] }), chat.reference as Partial<ConversationReference>);
        await context.adapter.sendActivities(context, [activity]);
      });
    } catch (err) {
      await runtime.refs.remove(workspace, heldKey(userId, fileId)).catch(() => 0);
      throw new QuorumError('REPLY_FAILED', 'Teams did not take the file consent card', { cause: err });
    }
    return { kind: 'offered' };
  };

  /** `fileConsent/invoke`: only the user the card was for may take the file, once. */
  async function handleFileConsent(activity: TeamsActivity, context: TurnContext): Promise<InvokeOutcome> {
    const value = consentValue.safeParse((activity as { value?: unknown }).value);
    if (!value.success) return { status: 400, body: { error: 'not a file consent answer' } };
    const tenant = tenantOf(activity);
    const held = tenant ? await take(workspaceOf(tenant), value.data.context.fileId, activity.from?.aadObjectId) : null;
    if (!held) {
      await context.sendActivity(safely({ type: ActivityTypes.Message, text: 'That file is no longer available. Please ask for it again.' }));
      return { status: 200 };
    }
    const info = value.data.uploadInfo;
    if (value.data.action === 'decline' || !info) {
      await context.sendActivity(safely({ type: ActivityTypes.Message, text: 'Declined: the file was not sent.' }));
      return { status: 200 };
    }
    if (!uploadAllowed(info.uploadUrl)) return { status: 400, body: { error: 'upload URL not allowed' } };
    const bytes = Buffer.from(held.content, 'utf8');
    const res = await fetch(info.uploadUrl, {
      method: 'PUT',
      headers: { 'content-length': String(bytes.length), 'content-range': `bytes 0-${bytes.length - 1}/${bytes.length}` },
      body: bytes,
    }).catch(() => null);
    if (!res?.ok) {
      runtime.log.warn({ event: 'teams.file_upload_failed', status: res?.status ?? null }, 'file upload to OneDrive failed');
      await context.sendActivity(safely({ type: ActivityTypes.Message, text: 'The upload to your OneDrive failed. Please ask for the file again.' }));
      return { status: 200 };
    }
    const card = { contentType: FILE_INFO_CARD, contentUrl: info.contentUrl, name: info.name, content: { uniqueId: info.uniqueId, fileType: info.fileType } };
    await context.sendActivity(safely({ type: ActivityTypes.Message, attachments: [card] }));
    return { status: 200 };
  }

  return { sendFile, handleFileConsent };
}
