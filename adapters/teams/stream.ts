/**
 * Teams' bot streaming protocol (1:1 chats only). While the turn works, informative updates
 * (`typing` activities with a `streaminfo` entity, streamType 'informative': "Planning…") show
 * what it is doing; then the answer so far goes out the same way with streamType 'streaming'.
 * All of them count one streamSequence (1, 2, …), and the id Teams gives the first one is the
 * streamId every later one names. Each answer update holds the whole text so far; updates go at
 * most one a second, as Teams asks. The stream ends with one `message` of streamType 'final' (no
 * sequence): the answer, or whatever reply the turn ends with; a longer reply's remaining parts
 * follow as messages. The stream's id (its first activity's) is the message a re-run after a
 * crash replaces: that run does not stream again (see replies.ts).
 *
 * botbuilder's connector serializer keeps only an entity's known fields (type, text, mentioned),
 * so the stream info also travels in channelData (streamId, streamType, streamSequence), which it
 * passes on whole: what Microsoft's Teams AI library sends too.
 */
import { actionsAttachment } from './cards.js';
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
  /** Posts `parts` after the first, once the final message (the first part) stands. */
  postRest(place: P, parts: string[]): Promise<void>;
  /** Told the stream's id once it is known (the turn remembers it for a re-run); never throws. */
  started?: (streamId: string) => Promise<void>;
}

type StreamType = 'informative' | 'streaming' | 'final';

/** One reply's stream in a 1:1 chat, shared by the progress updates, the answer stream and the final post. */
export class TeamsStreamSession<P> {
  /**
   * The message an earlier attempt at this delivery showed (its stream, before a crash), or null.
   * Set, the reply replaces it (replies.ts): no informative update or stream starts another.
   */
  constructor(readonly inherited: string | null = null) {}
  place: P | null = null;
  streamId: string | null = null;
  sequence = 0;
  /** The answer has started streaming: no more informative updates. */
  answering = false;
  /** Closed with its final message: later replies are plain messages. */
  ended = false;
  private lastSentAt = 0;
  private inFlight: Promise<unknown> = Promise.resolve();

  /**
   * Sends one update after the one before it has been taken: the first update's id must be known
   * (it names the stream) before the next is built.
   */
  async send(streamType: 'informative' | 'streaming', post: (fields: Pick<Activity, 'channelData' | 'entities'>) => Promise<string>): Promise<void> {
    const next = this.inFlight.catch(() => undefined).then(async () => {
      await this.paced();
      this.sent(await post(this.info(streamType)));
    });
    this.inFlight = next;
    await next;
  }

  /** The stream fields of the next activity: the first has no streamId yet, the final one no sequence. */
  info(streamType: StreamType): Pick<Activity, 'channelData' | 'entities'> {
    const sequence = streamType === 'final' ? {} : { streamSequence: ++this.sequence };
    const info = { streamType, ...sequence, ...(this.streamId ? { streamId: this.streamId } : {}) };
    return { channelData: info, entities: [{ type: 'streaminfo', ...info }] };
  }

  /** Whether an update now would come sooner than Teams takes them. */
  tooSoon(): boolean {
    return this.lastSentAt > 0 && Date.now() - this.lastSentAt < STREAM_INTERVAL_MS;
  }

  /** Waits until the next update may go. */
  async paced(): Promise<void> {
    const wait = this.lastSentAt + STREAM_INTERVAL_MS - Date.now();
    if (this.lastSentAt > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }

  /** Records an update Teams took: its id names the stream from then on. */
  private sent(id: string): void {
    this.streamId ??= id;
    this.lastSentAt = Date.now();
  }

  final(text: string): Partial<Activity> {
    return { type: ActivityTypes.Message, text, textFormat: TextFormatTypes.Markdown, ...this.info('final') };
  }
}

export function openTeamsStream<P>(options: TeamsStreamOptions<P>, session: TeamsStreamSession<P>): ReplyStream {
  let shown = '';
  let full = false;

  const buffer = new StreamBuffer(
    async (chunk) => {
      if (full || shown.length + chunk.length > options.maxChars) {
        full = true;
        return;
      }
      session.place ??= await options.place();
      session.answering = true;
      const place = session.place;
      await session.send('streaming', (fields) => options.send(place, { type: ActivityTypes.Typing, text: shown + chunk, ...fields }));
      if (shown === '' && session.streamId) await options.started?.(session.streamId);
      shown += chunk;
    },
    { intervalMs: STREAM_INTERVAL_MS },
  );

  return {
    append(text) {
      buffer.push(text);
    },

    async finish(fullText, actions) {
      // The final message carries the whole answer: what still waits need not go out first.
      await buffer.stop();
      if (buffer.failure !== null) throw buffer.failure;
      if (session.place === null || session.streamId === null || shown === '') throw new Error('the stream never started');
      const parts = options.split(fullText);
      const buttons = actions?.length ? { attachments: [actionsAttachment(actions)] } : {};
      await options.send(session.place, { ...session.final(parts[0] ?? ''), ...buttons });
      session.ended = true;
      await options.postRest(session.place, parts);
      return { platformMessageId: session.streamId };
    },

    async abort() {
      await buffer.stop();
      // Only informative updates so far: the reply that follows ends the stream (see post).
      if (session.place === null || session.streamId === null || session.ended || shown === '') return;
      // A stream ends with its final message; the withdrawn answer's message is then deleted.
      try {
        await options.send(session.place, session.final(shown));
        session.ended = true;
        await options.remove(session.place, session.streamId);
      } catch {
        // Best effort: the reply that replaces it is posted either way.
      }
    },
  };
}
