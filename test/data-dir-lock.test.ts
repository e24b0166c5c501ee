/** PGlite corrupts a folder opened by two processes: the second one must refuse to start. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../src/db/data-dir-lock.js';
import { startChild, type Child } from './support/child.js';
import { seededDataDir } from './support/db.js';

describe('one process per DATA_DIR', () => {
  // Migrated already: the lock is under test here, not creating the database.
  const dir = seededDataDir(mkdtempSync(join(tmpdir(), 'quorum-lock-')));
  const children: Child[] = [];
  afterAll(async () => {
    for (const c of children) {
      c.kill('SIGKILL');
      await c.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second process with a clear message, and the first keeps serving', { timeout: 180_000 }, async () => {
    const first = startChild({ DATA_DIR: dir });
    children.push(first);
    const url = await first.ready();
    const second = startChild({ DATA_DIR: dir });
    children.push(second);
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/is in use by another Quorum process \(pid \d+\)/);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  it('takes over a lock left by a process that died', () => {
    const stale = mkdtempSync(join(tmpdir(), 'quorum-stale-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(stale, 'quorum.lock'), dead);
    const lock = lockDataDir(stale);
    expect(() => lockDataDir(stale)).toThrow(/in use/);
    lock.release();
    lockDataDir(stale).release();
    rmSync(stale, { recursive: true, force: true });
  });
});
