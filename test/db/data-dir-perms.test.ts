/**
 * The embedded database's folder is private to the service's user: created 0700, and after PGlite
 * has written (at open and at close) nothing in it keeps a group or other permission bit. The modes
 * on disk are checked, whatever the umask says.
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { loadEncryptionKey } from '../../src/secrets.js';
import { seededDataDir } from '../support/db.js';

/** Every path under `dir` whose mode lets group or others in, with its mode. */
function exposed(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) found.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe.skipIf(process.platform === 'win32')('DATA_DIR permissions', () => {
  it('a new folder is 0700 and nothing in it is open to others, after open and after close', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'quorum-perms-')), 'data');
    const previous = process.umask(0); // the worst case: files would be created 0666 / 0777
    try {
      const database = await openDatabase({ dataDir });
      expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
      expect(readdirSync(join(dataDir, 'pgdata')).length).toBeGreaterThan(0);
      expect(exposed(dataDir)).toEqual([]);
      await database.close();
      expect(exposed(dataDir)).toEqual([]);
    } finally {
      process.umask(previous);
    }
  }, 60_000);

  it('an existing folder open to everyone is closed up, contents included', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'quorum-perms-'));
    chmodSync(dataDir, 0o777);
    mkdirSync(join(dataDir, 'old'), { mode: 0o755 });
    writeFileSync(join(dataDir, 'old', 'notes.txt'), 'x', { mode: 0o666 });
    chmodSync(join(dataDir, 'old', 'notes.txt'), 0o666);
    // A database already there (the migrated snapshot: its folders are 0750), opened to everyone too.
    seededDataDir(dataDir);
    chmodSync(join(dataDir, 'pgdata'), 0o777);
    chmodSync(join(dataDir, 'pgdata', 'PG_VERSION'), 0o666);
    expect(exposed(join(dataDir, 'pgdata')).length).toBeGreaterThan(2);
    const database = await openDatabase({ dataDir });
    try {
      expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
      expect(lstatSync(join(dataDir, 'old', 'notes.txt')).mode & 0o777).toBe(0o600);
      expect(exposed(dataDir)).toEqual([]);
    } finally {
      await database.close();
    }
  }, 60_000);

  it('the development key and its folder are private too (PostgreSQL deployments keep it there)', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'quorum-perms-')), 'keyonly');
    const previous = process.umask(0);
    try {
      loadEncryptionKey({ key: undefined, dataDir, log: silent });
    } finally {
      process.umask(previous);
    }
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    expect(exposed(dataDir)).toEqual([]);
  });
});
