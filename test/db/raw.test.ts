/** Raw SQL's guard rails: a statement must use its batch's workspace, and rows are decoded at the edge. */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Scope } from '../../src/core/identity.js';
import { col, decodeRows, scoped, scopedBatch } from '../../src/db/raw.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { drivers, useTestDatabase } from '../support/db.js';

const fakeScope = (workspaceId: string) => ({ workspaceId, platform: 'slack' }) as Scope;

describe('raw SQL helpers', () => {
  const batch = scopedBatch('v', { name: 'text' }, [{ scope: fakeScope('00000000-0000-0000-0000-000000000001'), values: { name: 'a' } }]);

  it('refuse a statement that never filters by its batch workspace', () => {
    expect(() => scoped(batch, () => sql`select v.name from ${batch.from}`)).toThrow(/does not filter by its batch workspace/);
    // Found also when nested inside another fragment.
    const nested = scoped(batch, (ws) => sql`select * from ${batch.from} where ${sql`${ws} is not null`}`);
    expect(nested).toBeDefined();
  });

  it('refuse rows that do not match their decoder', () => {
    const decoder = z.object({ id: z.string(), n: col.number });
    expect(decodeRows(decoder, { rows: [{ id: 'x', n: '12' }] })).toEqual([{ id: 'x', n: 12 }]);
    expect(decodeRows(decoder, [{ id: 'y', n: 3 }])).toEqual([{ id: 'y', n: 3 }]);
    expect(() => decodeRows(decoder, [{ identifier: 'x', n: 1 }])).toThrow();
  });
});

describe.each(drivers)('scoped batches on a real database (%s)', (driver) => {
  const database = useTestDatabase(driver);

  it('carry each row’s workspace, so a statement reads only its own workspace’s rows', async () => {
    const store = createTurnStore(database().db);
    const a = await store.resolveWorkspace({ platform: 'slack', externalId: `T0RAWA${driver}` });
    const b = await store.resolveWorkspace({ platform: 'slack', externalId: `T0RAWB${driver}` });
    for (const scope of [a, b]) await store.resolvePrincipal(scope, { id: 'U0SAME' }, { platformRole: 'member', deleted: false });
    const asked = scopedBatch('i', { userId: 'text' }, [{ scope: a, values: { userId: 'U0SAME' } }]);
    const rows = decodeRows(
      z.object({ ord: z.number(), ws: z.string() }),
      await database().db.execute(
        scoped(asked, (ws) => sql`select i.ord, p.workspace_id as ws from ${asked.from} join principals p on p.workspace_id = ${ws} and p.platform_user_id = i."userId"`),
      ),
    );
    expect(rows).toEqual([{ ord: 0, ws: a.workspaceId }]);
  });
});
