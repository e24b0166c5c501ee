/** SeenRequests on the `seen_requests` table: one conditional insert per request, expired rows pruned along the way. */
import { sql } from 'drizzle-orm';
import type { SeenRequests } from '../core/ports.js';
import { z } from 'zod';
import type { Db } from './client.js';
import { decodeRows } from './raw.js';

export function createSeenRequests(db: Db): SeenRequests {
  return {
    async firstTime(key, ttlMs) {
      // One statement: a few expired rows go (never this key's: a replay stays refused), and the
      // insert wins for exactly one of any number of concurrent offers of the same key.
      // Not per workspace: a signature names one request whatever workspace it claims.
      const rows = decodeRows(
        z.object({ key: z.string() }),
        await db.execute(sql`with pruned as (
            delete from seen_requests where key in (
              select key from seen_requests where expires_at < now() and key <> ${key} limit 100))
          insert into seen_requests (key, expires_at) values (${key}, now() + ${`${ttlMs} milliseconds`}::interval)
          on conflict (key) do nothing
          returning key`),
      );
      return rows.length === 1;
    },
  };
}
