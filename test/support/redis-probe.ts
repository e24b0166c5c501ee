/** Whether Redis answers at a URL: one PING, no retries and no reconnect loop (a Redis that is not there costs one refused connection, not a flood). */
import { Redis } from 'ioredis';

export async function redisAnswers(url: string | null | undefined): Promise<boolean> {
  if (!url) return false;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
