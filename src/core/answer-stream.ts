/**
 * The answer shown while the model writes it, where the platform can (ReplySink.openStream).
 * Text goes to the platform's stream as it arrives; the stream then ends with the recorded
 * answer, so what was shown is what was stored. Where it cannot stream, or the stream breaks,
 * or the final text does not continue what was shown, the stream is withdrawn and the caller
 * posts the answer normally: one visible answer either way.
 */
import type { ReplyAction } from './interactions.js';
import type { DeliveryMemory, Logger, ReplySink, ReplyStream, ReplyTarget } from './ports.js';

export interface AnswerStream {
  /** For ModelCall.onTextDelta. */
  onTextDelta(delta: string): void;
  /** Ends the stream with `text`; null when nothing was streamed or it broke (then post `text` normally). */
  finish(text: string, actions?: ReplyAction[]): Promise<{ platformMessageId: string } | null>;
  /** Withdraws what was streamed (a refusal, a plan that turned into tool calls); a later delta starts anew. */
  discard(): Promise<void>;
}

/** null when this reply cannot stream: then the model is not asked to stream either. */
export function openAnswerStream(
  sink: ReplySink,
  target: ReplyTarget,
  memory: DeliveryMemory,
  log: Logger,
  started?: (messageId: string) => Promise<void>,
): AnswerStream | null {
  const open = (): ReplyStream | null => {
    try {
      return sink.openStream?.(target, memory, started) ?? null;
    } catch (err) {
      log.warn({ event: 'reply.stream_unavailable', err: (err as Error).message }, 'could not open a reply stream');
      return null;
    }
  };
  let stream = open();
  if (!stream) return null;
  // Answers are stored trimmed: leading whitespace is dropped and trailing whitespace held back
  // until more text follows, so what was shown is always the start of the stored answer.
  let shown = '';
  let held = '';
  const take = () => {
    const taken = { stream, shown };
    stream = null;
    shown = '';
    held = '';
    return taken;
  };
  const abort = async (s: ReplyStream | null) => {
    await s?.abort().catch((err: Error) => log.warn({ event: 'reply.stream_abort_failed', err: err.message }, 'stream not withdrawn'));
  };

  return {
    onTextDelta(delta) {
      let text = held + delta;
      if (shown === '') text = text.trimStart();
      const body = text.trimEnd();
      held = text.slice(body.length);
      if (!body) return;
      stream ??= open();
      if (!stream) return;
      stream.append(body);
      shown += body;
    },

    async finish(text, actions) {
      const taken = take();
      if (!taken.stream) return null;
      if (taken.shown === '') {
        await abort(taken.stream);
        return null;
      }
      if (!text.startsWith(taken.shown)) {
        log.warn({ event: 'reply.stream_replaced' }, 'the answer does not continue the streamed text; posting it instead');
        await abort(taken.stream);
        return null;
      }
      try {
        return await taken.stream.finish(text, actions);
      } catch (err) {
        log.warn({ event: 'reply.stream_failed', err: (err as Error).message }, 'reply stream broke; posting the answer instead');
        await abort(taken.stream);
        return null;
      }
    },

    async discard() {
      await abort(take().stream);
    },
  };
}
