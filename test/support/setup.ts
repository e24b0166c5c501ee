/**
 * What a describe block starts before its tests and stops after them. `setup` runs in beforeAll
 * and registers how to undo each thing it started; afterAll undoes them last first, every one
 * even when an earlier one fails. The returned object is filled in once setup ran, so read its
 * fields inside tests, not while the block is being declared.
 */
import { afterAll, beforeAll } from 'vitest';

export type Cleanup = (undo: () => unknown) => void;

export function useSetup<T extends object>(setup: (cleanup: Cleanup) => Promise<T>): T {
  const ctx = {} as T;
  const undos: (() => unknown)[] = [];
  beforeAll(async () => {
    Object.assign(ctx, await setup((undo) => undos.push(undo)));
  });
  afterAll(async () => {
    let first: unknown;
    for (const undo of undos.reverse()) {
      try {
        await undo();
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  });
  return ctx;
}
