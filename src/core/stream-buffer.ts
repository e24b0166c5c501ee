/**
 * Batches streamed text for a platform that must not be called per token (Slack's stream
 * methods, Teams' 1-update-a-second streaming): sends what has accumulated at most once per
 * `intervalMs`, or sooner once `maxChars` are waiting, one call at a time, in order. The first
 * piece goes out at once so that the answer starts showing as early as possible.
 *
 * What it sends is neutralized (outgoing-text.ts), cut only where no mention or link can be
 * split: a piece that might still become one waits for more text (or the end).
 */
import { neutralizeText, stableLength } from './outgoing-text.js';

export interface StreamBufferOptions {
  intervalMs: number;
  /** Send before the interval is up once this much text waits (default: never). */
  maxChars?: number;
}

export class StreamBuffer {
  private pending = '';
  private inFlight: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastSent = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** The first failed send; nothing is sent after it. */
  failure: unknown = null;

  constructor(
    private readonly send: (chunk: string) => Promise<void>,
    private readonly options: StreamBufferOptions,
  ) {}

  push(text: string): void {
    if (this.closed || this.failure !== null) return;
    this.pending += text;
    this.schedule();
  }

  /** Sends what still waits now (whatever the interval) and waits for it; throws the first failure. */
  async drain(): Promise<void> {
    this.close();
    await this.inFlight;
    if (this.failure !== null) throw this.failure;
    const rest = this.pending;
    this.pending = '';
    const shown = neutralizeText(rest);
    if (shown) await this.send(shown);
  }

  /** Stops sending: drops what waits and waits for the call in flight. Never throws; see `failure`. */
  async stop(): Promise<void> {
    this.close();
    this.pending = '';
    await this.inFlight;
  }

  private close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.inFlight || this.closed || this.failure !== null || !this.pending) return;
    const wait = this.lastSent + this.options.intervalMs - performance.now();
    if (wait > 0 && this.pending.length < (this.options.maxChars ?? Number.POSITIVE_INFINITY)) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, wait);
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const cut = stableLength(this.pending);
    // Nothing that can go yet: the next push schedules again.
    if (cut === 0) return;
    const chunk = neutralizeText(this.pending.slice(0, cut));
    this.pending = this.pending.slice(cut);
    // Only a dropped `<at>` tag: nothing to show.
    if (!chunk) return this.schedule();
    this.lastSent = performance.now();
    this.inFlight = this.send(chunk).then(
      () => {
        this.inFlight = null;
        this.schedule();
      },
      (err: unknown) => {
        this.failure ??= err;
        this.inFlight = null;
      },
    );
  }
}
