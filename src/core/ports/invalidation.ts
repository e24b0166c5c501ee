/** The invalidation bus: how a revocation on one instance reaches every instance's caches. */
import type { Invalidation } from '../invalidation.js';

/** The port: publish once, and every instance (this one first, before publish resolves) applies it. */
export interface InvalidationBus {
  /** Applies the message on this instance at once, then tells the others (best effort: a TTL is the fallback). */
  publish(message: Invalidation): Promise<void>;
  /** Every message, this instance's own included; returns the unsubscribe function. */
  subscribe(handler: (message: Invalidation) => void): () => void;
  close(): Promise<void>;
}

/** How a transport carries text between instances; `receive` gets every other instance's payloads. */
export interface BusTransport {
  send(payload: string): Promise<void>;
  start(receive: (payload: string) => void, reconnected: () => void): Promise<void>;
  close(): Promise<void>;
}
