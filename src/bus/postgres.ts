/**
 * Invalidation between instances over PostgreSQL LISTEN/NOTIFY: the database every instance
 * already shares, so no other service is needed. Notifications are per database, so two
 * deployments on one server (or two test databases) never hear each other.
 */
import postgres from 'postgres';
import type { BusTransport } from '../core/ports.js';

export const CHANNEL = 'quorum_invalidation';

export function postgresTransport(url: string): BusTransport {
  // Its own connections: one held by LISTEN, one for NOTIFY, apart from the pool that turns use.
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5, idle_timeout: 30 });
  let listening: { unlisten(): Promise<void> } | null = null;
  return {
    async start(receive, reconnected) {
      let first = true;
      // postgres.js listens again by itself after a reconnect and calls onlisten each time:
      // whatever was sent in between was missed, so everything cached is forgotten.
      listening = await sql.listen(CHANNEL, receive, () => {
        if (!first) reconnected();
        first = false;
      });
    },
    async send(payload) {
      await sql.notify(CHANNEL, payload);
    },
    async close() {
      await listening?.unlisten().catch(() => {});
      await sql.end({ timeout: 5 });
    },
  };
}
