/** Invalidation between instances over Redis pub/sub, when REDIS_URL is configured. */
import { Redis } from 'ioredis';
import type { BusTransport } from '../core/ports.js';

export const CHANNEL = 'quorum:invalidation';
/** Start-up does not wait longer than this for a slow Redis: the subscription stays queued until it answers. */
const SUBSCRIBE_WAIT_MS = 5_000;

export function redisTransport(url: string, channel = CHANNEL): BusTransport {
  const retryStrategy = (times: number) => Math.min(times * 200, 2000);
  const publisher = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy });
  // A subscribed connection can do nothing else: a second one, connected in start().
  const subscriber = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy });
  // Failures show as failed sends (logged by the bus) and as reconnects; nothing to print here.
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  return {
    async start(receive, reconnected) {
      let readies = 0;
      subscriber.on('message', (from: string, payload: string) => {
        if (from === channel) receive(payload);
      });
      // ioredis subscribes again after a reconnect; what was sent while it was away is lost.
      subscriber.on('ready', () => {
        readies += 1;
        if (readies > 1) reconnected();
      });
      // Start-up waits for the subscription, unless Redis is unreachable (the first error): the
      // subscription then stays queued and is made when Redis answers.
      let timer: NodeJS.Timeout | undefined;
      let subscribed = false;
      let failed: (() => void) | undefined;
      await Promise.race([
        subscriber.subscribe(channel).then(
          () => {
            subscribed = true;
          },
          () => undefined,
        ),
        new Promise<void>((resolve) => {
          failed = resolve;
          subscriber.once('error', resolve);
          timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (failed) subscriber.off('error', failed);
      // Not subscribed yet: whatever this instance caches until Redis answers may miss a revocation.
      if (!subscribed) readies = Math.max(readies, 1);
    },
    async send(payload) {
      await publisher.publish(channel, payload);
    },
    async close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
