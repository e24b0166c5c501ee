/**
 * The answer streamed into its Slack thread with chat.startStream / appendStream / stopStream,
 * as Markdown (`markdown_text`, so no mrkdwn conversion). Text is batched: a call at most every
 * 250 ms, or sooner once 200 characters wait, never one per token. When the stream stands, the
 * status message above it is deleted, so the thread keeps exactly one answer message.
 */
import type { webApi } from '@slack/bolt';
import type { Logger, ReplyStream, ReplyTarget } from '../../src/core/ports.js';
import { StreamBuffer } from '../../src/core/stream-buffer.js';
import type { SlackReplyRoute } from './events.js';
import { actionsBlock, hasTable, messageWithActions, MAX_MARKDOWN_BLOCK_CHARS } from './markdown.js';
import type { TokenSource } from './tokens.js';

/** Slack takes at most 12,000 characters of `markdown_text` per call. */
const MAX_STREAM_CALL_CHARS = 12_000;
export const STREAM_INTERVAL_MS = 250;
export const STREAM_MAX_WAITING_CHARS = 200;

export interface SlackStreamOptions {
  client: webApi.WebClient;
  tokens: TokenSource;
  /** The thread the answer goes into (streams are always thread replies). */
  thread: string;
  /** The status message shown while the turn works: waited for (so it comes first), then removed. */
  status: { current(): Promise<string | null>; clear(): void };
  /** Told the stream's ts before anything else happens to it (the turn remembers it for a re-run). */
  started?: ((ts: string) => Promise<void>) | undefined;
  log: Logger;
}

export function openSlackStream(options: SlackStreamOptions, target: ReplyTarget): ReplyStream {
  const { client, tokens, thread, status, started, log } = options;
  const channel = target.channel.id;
  // Outside DMs Slack wants to know whose request the stream answers (their own team for Slack Connect users).
  const teamId = (target.replyRoute as Partial<SlackReplyRoute>).teamId ?? target.workspace.externalId;
  const recipient =
    target.channel.kind === 'dm' ? {} : { recipient_user_id: target.user.id, recipient_team_id: target.user.homeWorkspaceId ?? teamId };
  let token = '';
  let ts: string | null = null;
  let appended = 0;

  const buffer = new StreamBuffer(
    async (chunk) => {
      if (!ts) {
        await status.current();
        token = (await tokens.forWorkspace(target.workspace)).token;
        // Started empty, so that its ts is stored before any of the answer shows: a crash in
        // between leaves at most an empty message that a re-run replaces, never a second answer.
        const res = await client.chat.startStream({ token, channel, thread_ts: thread, ...recipient });
        if (!res.ts) throw new Error('chat.startStream answered without a ts');
        ts = res.ts;
        // Best effort: without it a re-run after a crash may show the answer a second time.
        await started?.(ts).catch((err: Error) => log.warn({ event: 'reply.stream_not_remembered', err: err.message }, 'streamed message not remembered'));
      }
      for (let at = 0; at < chunk.length; at += MAX_STREAM_CALL_CHARS) {
        await client.chat.appendStream({ token, channel, ts, markdown_text: chunk.slice(at, at + MAX_STREAM_CALL_CHARS) });
      }
    },
    { intervalMs: STREAM_INTERVAL_MS, maxChars: STREAM_MAX_WAITING_CHARS },
  );

  return {
    append(text) {
      appended += text.length;
      buffer.push(text);
    },

    async finish(fullText, actions) {
      buffer.push(fullText.slice(appended));
      appended = fullText.length;
      await buffer.drain();
      if (!ts) throw new Error('the stream never started');
      // The buttons (feedback) come with the stop: chat.stopStream takes blocks shown under the text.
      await client.chat.stopStream({ token, channel, ts, ...(actions?.length ? { blocks: [actionsBlock(actions)] } : {}) } as never);
      // A stream shows tables as raw pipes (markdown_text): the finished answer is shown again as a
      // markdown block, which renders them. Best effort: the streamed text stands otherwise.
      if (hasTable(fullText) && fullText.length <= MAX_MARKDOWN_BLOCK_CHARS) {
        await client.chat.update({ token, channel, ts, ...messageWithActions(fullText, actions) }).catch((err: Error) =>
          log.warn({ event: 'reply.table_render_failed', err: err.message }, 'streamed answer not re-rendered as a markdown block'),
        );
      }
      // The answer is its own message now: the status message above it goes.
      const statusTs = await status.current();
      if (statusTs && statusTs !== ts) await client.chat.delete({ token, channel, ts: statusTs }).catch(() => undefined);
      status.clear();
      return { platformMessageId: ts };
    },

    async abort() {
      await buffer.stop();
      if (!ts) return;
      await client.chat.stopStream({ token, channel, ts }).catch(() => undefined);
      await client.chat.delete({ token, channel, ts }).catch(() => undefined);
    },
  };
}
