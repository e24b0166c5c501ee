/**
 * Teams' bot streaming protocol (1:1 chats only): the answer so far goes out as `typing`
 * activities with a `streaminfo` entity (streamType 'streaming', streamSequence 1, 2, …); the id
 * Teams gives the first one is the streamId every later one names. Each update holds the whole
 * text so far, at most one a second as Teams asks. The finished answer is a `message` with
 * streamType 'final' (and no sequence); a longer answer's remaining parts follow as messages.
 *
 * botbuilder's connector serializer keeps only an entity's known fields (type, text, mentioned),
 * so the stream info also travels in channelData (streamId, streamType, streamSequence), which it
 * passes on whole: what Microsoft's Teams AI library sends too.
 */
import { ActivityTypes, TextFormatTypes, type Activity } from 'botbuilder';
import type { ReplyStream } from '../../src/core/ports.js';
import { StreamBuffer } from '../../src/core/stream-buffer.js';

export const STREAM_INTERVAL_MS = 1_000;

export interface TeamsStreamOptions<P> {
  /** One message's size: updates stop past it, the final message and its follow-ups carry the rest. */
  maxChars: number;
  /** Where the stream goes (the 1:1 chat); throws when it is gone. */
  place(): Promise<P>;
  send(place: P, activity: Partial<Activity>): Promise<string>;
  remove(place: P, activityId: string): Promise<void>;
  split(text: string): string[];
  /** Posts `parts` after the first, once the final message (the first part, `firstId`) stands. */
  postRest(place: P, parts: string[], firstId: string): Promise<void>;
}

export function openTeamsStream<P>(options: TeamsStreamOptions<P>): ReplyStream {
  let place: P | null = null;
  let streamId: string | null = null;
  let sequence = 0;
  let shown = '';
  let full = false;
  /** The stream fields of one activity: the first update has no streamId yet, the final one no sequence. */
  const streamed = (streamType: 'streaming' | 'final', streamSequence?: number) => {
    const info = { streamType, ...(streamSequence !== undefined ? { streamSequence } : {}), ...(streamId ? { streamId } : {}) };
    return { channelData: info, entities: [{ type: 'streaminfo', ...info }] };
  };
  const final = (text: string): Partial<Activity> => ({
    type: ActivityTypes.Message,
    text,
    textFormat: TextFormatTypes.Markdown,
    ...streamed('final'),
  });

  const buffer = new StreamBuffer(
    async (chunk) => {
      if (full || shown.length + chunk.length > options.maxChars) {
        full = true;
        return;
      }
      place ??= await options.place();
      const id = await options.send(place, { type: ActivityTypes.Typing, text: shown + chunk, ...streamed('streaming', ++sequence) });
      shown += chunk;
      streamId ??= id;
    },
    { intervalMs: STREAM_INTERVAL_MS },
  );

  return {
    append(text) {
      buffer.push(text);
    },

    async finish(fullText) {
      // The final message carries the whole answer: what still waits need not go out first.
      await buffer.stop();
      if (buffer.failure !== null) throw buffer.failure;
      if (place === null || streamId === null) throw new Error('the stream never started');
      const parts = options.split(fullText);
      await options.send(place, final(parts[0] ?? ''));
      await options.postRest(place, parts, streamId);
      return { platformMessageId: streamId };
    },

    async abort() {
      await buffer.stop();
      if (place === null || streamId === null) return;
      // A stream ends with its final message; the withdrawn answer's message is then deleted.
      try {
        await options.send(place, final(shown));
        await options.remove(place, streamId);
      } catch {
        // Best effort: the reply that replaces it is posted either way.
      }
    },
  };
}
