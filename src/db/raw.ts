/**
 * Raw SQL's one home. The statements every turn runs are plain SQL over JSON batches (drizzle's
 * builder costs more CPU than PostgreSQL spends running them); here they get back what drizzle
 * gives the rest of the stores:
 * - a batch's rows are declared once with their column types, and each row carries its
 *   workspace (`ws`) taken from a Scope, never from a caller's string;
 * - `scoped` builds a statement from the batch's workspace column and refuses one that never
 *   uses it, so the tenant filter cannot be left out;
 * - rows read back go through a zod decoder, so a renamed column or a changed type fails loudly
 *   at the edge instead of travelling on as `undefined`.
 */
import { SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Scope } from '../core/identity.js';

/** PostgreSQL types a batch column may have. */
type ColumnType = 'uuid' | 'text' | 'int' | 'bigint' | 'bool' | 'jsonb' | 'timestamptz';

export interface ScopedBatch {
  /** `jsonb_to_recordset(…) as alias(ws uuid, …)`: use it in a FROM. */
  readonly from: SQL;
  /** `alias.ws`: the workspace of each row, which every statement over the batch must filter on. */
  readonly ws: SQL;
}

/**
 * A batch of rows as a SQL row source. `ord` (the row's place in `items`) is added, so answers
 * can be matched back to their callers.
 */
export function scopedBatch<T extends Record<string, unknown>>(
  alias: string,
  columns: { [K in keyof T]: ColumnType },
  items: readonly { scope: Scope; values: T }[],
): ScopedBatch {
  const names = Object.keys(columns);
  const rows = items.map(({ scope, values }, ord) => ({ ...values, ord, ws: scope.workspaceId }));
  const declared = ['ord int', 'ws uuid', ...names.map((n) => `"${n}" ${(columns as Record<string, ColumnType>)[n]}`)].join(', ');
  return {
    from: sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as ${sql.raw(alias)}(${sql.raw(declared)})`,
    ws: sql.raw(`${alias}.ws`),
  };
}

/** The statement `build` makes from the batch's workspace column; throws if it never uses it. */
export function scoped(batch: ScopedBatch, build: (ws: SQL) => SQL): SQL {
  const statement = build(batch.ws);
  if (!mentions(statement, batch.ws)) throw new Error('raw SQL statement does not filter by its batch workspace');
  return statement;
}

function mentions(statement: SQL, fragment: SQL): boolean {
  return statement.queryChunks.some((chunk) => chunk === fragment || (chunk instanceof SQL && mentions(chunk, fragment)));
}

/** The rows of `db.execute`: postgres.js answers an array, PGlite an object holding one. */
export function rowsOf(result: unknown): unknown[] {
  return Array.isArray(result) ? result : ((result as { rows?: unknown[] }).rows ?? []);
}

/** Decodes every row of an `execute` result with `decoder`. */
export function decodeRows<D extends z.ZodType>(decoder: D, result: unknown): z.infer<D>[] {
  return z.array(decoder).parse(rowsOf(result));
}

/** Column decoders for what JSON and the drivers hand back. */
export const col = {
  /** bigint and numeric come back as strings from postgres.js, numbers from PGlite's JSON. */
  number: z.coerce.number(),
  /** Timestamps inside JSON are ISO strings; read directly they are Dates. */
  date: z.coerce.date(),
};
