/**
 * DATA_DIR holds the embedded database and the development key: nobody but the service's own user
 * may read or write anything in it. The folder is created 0700 and its contents lose every group
 * and other permission bit. PGlite writes its files 0666 whatever the umask, so the result is
 * checked and fixed after PGlite has written (at open and at close), not trusted to the umask.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QuorumError } from './core/errors.js';

/** Entries visited at most by one pass (a PGlite folder holds about 1,000 files). */
const MAX_ENTRIES = 100_000;

/** Creates `dir` (0700) or makes an existing one 0700; refuses with a clear error when it cannot. */
export function ensurePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  } catch (cause) {
    throw new QuorumError('CONFIG_INVALID', `DATA_DIR ${dir} could not be made private to this user (chmod 700): ${(cause as Error).message}`, { cause });
  }
}

/** Removes group and other permissions from `dir` and everything below it (symbolic links are not followed). */
export function privatizeTree(dir: string): void {
  const pending = [dir];
  let visited = 0;
  while (pending.length > 0 && visited < MAX_ENTRIES) {
    const path = pending.pop()!;
    visited += 1;
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      continue; // removed meanwhile (PGlite's temporary files)
    }
    if (stat.isSymbolicLink()) continue;
    if ((stat.mode & 0o077) !== 0) {
      try {
        chmodSync(path, stat.mode & 0o700);
      } catch {
        // removed meanwhile
      }
    }
    if (stat.isDirectory()) {
      try {
        for (const name of readdirSync(path)) pending.push(join(path, name));
      } catch {
        // removed meanwhile
      }
    }
  }
}
