/**
 * PGlite corrupts its folder when two processes open it, so a DATA_DIR is held by one process.
 * The lock file holds the owner's pid; a lock whose process is gone is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { QuorumError } from '../core/errors.js';

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'quorum.lock');
  // Two tries: the second follows removing a lock left by a dead process.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new QuorumError(
          'DATA_DIR_LOCKED',
          `${dataDir} is in use by another Quorum process (pid ${owner}). The embedded database allows one process; ` +
            'stop the other one, use another DATA_DIR, or set DATABASE_URL to share PostgreSQL.',
        );
      }
      unlinkSync(file);
    }
  }
  throw new QuorumError('DATA_DIR_LOCKED', `could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
