/**
 * Ranks, through the command entry point (the console's POST /console/api/messages): for every
 * pair of roles, `role`, `forget` and `audit @user` as the actor types them. Nobody changes,
 * demotes or erases someone of their own rank or higher (themselves excepted); guests are never
 * made admin or owner; the operator's admin (QUORUM_ADMINS) ranks as an admin. Every refusal
 * changes nothing and is audited.
 */
import { desc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { Demo } from '../../adapters/console/demo.js';
import { auditLog, grants, principals } from '../../src/db/schema.js';
import type { Role } from '../../src/core/identity.js';
import { useTestApp } from '../support/app.js';
import { consoleSpeaker } from '../support/console.js';
import { drivers } from '../support/db.js';

/** Two of each rank (so that "the last owner/admin" never decides), and an operator admin whose platform role is member. */
const PEOPLE: [string, Role][] = [
  ['own1', 'owner'],
  ['own2', 'owner'],
  ['adm1', 'admin'],
  ['adm2', 'admin'],
  ['op', 'member'],
  ['mem1', 'member'],
  ['mem2', 'member'],
  ['gst1', 'guest'],
  ['gst2', 'guest'],
  ['ext1', 'external'],
];
const demo: Demo = {
  workspace: { id: 'ranks', name: 'Ranks' },
  users: PEOPLE.map(([id, role]) => ({ id, name: id, role })),
  channels: [{ id: 'general', name: '#general', members: PEOPLE.map(([id]) => id) }],
};
const RANK: Record<Role, number> = { owner: 4, admin: 3, member: 2, guest: 1, external: 0 };
/** Effective rank: `op` is an admin by the operator's word. */
const rankOf = (id: string) => (id === 'op' ? RANK.admin : RANK[PEOPLE.find(([u]) => u === id)![1]]);

const ABOVE = 'You cannot give a role above your own, or act on someone whose role is above yours.';
const SAME = 'You cannot change or erase someone whose role is the same as yours.';
const ADMINS = 'Only workspace admins can do that.';

describe.each(drivers)('ranks for every pair of roles (%s)', (driver) => {
  const ctx = useTestApp(driver, () => ({ demo, env: { QUORUM_ADMINS: 'console:ranks:op' } }));
  const { say, command } = consoleSpeaker(() => ctx.app);
  const grantsNow = () => ctx.db.db.select({ p: grants.principalId, r: grants.role }).from(grants).orderBy(grants.principalId);
  const lastAudit = async () => (await ctx.db.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1))[0]!;
  const clearGrants = () => ctx.db.db.delete(grants);

  it('role, forget and audit @user: allowed exactly below one\'s own rank, refused and audited otherwise', { timeout: 120_000 }, async () => {
    for (const [id] of PEOPLE) await say(id, 'hello');
    for (const [actor] of PEOPLE) {
      for (const [target, targetRole] of PEOPLE) {
        if (actor === target) continue;
        const admin = rankOf(actor) >= RANK.admin;
        const below = rankOf(target) < rankOf(actor);
        const refusal = !admin ? ADMINS : rankOf(target) > rankOf(actor) ? ABOVE : SAME;
        const pair = `${actor} → ${target}`;

        // Demote (or, for a guest, the only lower grant there is: guest itself).
        const before = JSON.stringify(await grantsNow());
        const role = await command(actor, `/agent role @${target} guest`);
        if (targetRole === 'external' && admin) expect(role, pair).toMatch(/keep external access/);
        else if (target === 'op' && admin && below) expect(role, pair).toMatch(/set by the operator/);
        else if (admin && below) expect(role, pair).toMatch(new RegExp(`^Role of @${target}: `));
        else {
          expect(role, pair).toBe(refusal);
          expect(await lastAudit(), pair).toMatchObject({ action: 'denial', outcome: 'denied', detail: { command: 'role' } });
          expect(JSON.stringify(await grantsNow()), pair).toBe(before);
        }
        await clearGrants();

        const forget = await command(actor, `/agent forget @${target}`);
        if (admin && below) expect(forget, pair).toMatch(new RegExp(`^Deleted @${target}'s data: `));
        else {
          expect(forget, pair).toBe(refusal);
          expect(await lastAudit(), pair).toMatchObject({ action: 'denial', detail: { command: 'forget_user' } });
        }

        // Reading the audit log changes nobody: every admin reads all of it, filtered or not.
        const audit = await command(actor, `/agent audit @${target}`);
        if (admin) expect(audit, pair).not.toBe(ADMINS);
        else expect(audit, pair).toBe(ADMINS);
      }
    }
  });

  it('themselves excepted: anyone erases their own data; an admin steps down while another remains', async () => {
    for (const [id] of PEOPLE) expect(await command(id, `/agent forget @${id}`)).toMatch(/^Deleted your data: /);
    expect(await command('adm1', '/agent role @adm1 member')).toBe('Role of @adm1: admin → member (grant none → member).');
    await clearGrants();
  });

  it('guests and external users are never made admin or owner, by anyone', async () => {
    for (const to of ['admin', 'owner']) {
      expect(await command('own1', `/agent role @gst1 ${to}`)).toBe('Guests cannot be made admins or owners.');
      expect(await command('own1', `/agent role @ext1 ${to}`)).toMatch(/keep external access/);
    }
    expect(await command('adm1', '/agent role @gst1 admin')).toBe('Guests cannot be made admins or owners.');
    // A member may be (it is a grant the guest could not give themselves).
    expect(await command('adm1', '/agent role @gst1 member')).toBe('Role of @gst1: guest → member (grant none → member).');
    const [gst1] = await ctx.db.db.select({ id: principals.id }).from(principals).where(eq(principals.platformUserId, 'gst1'));
    expect(await grantsNow()).toEqual([{ p: gst1!.id, r: 'member' }]);
    await clearGrants();
  });

  it('a new admin cannot demote or erase a platform admin, nor the operator\'s admin', async () => {
    expect(await command('own1', '/agent role @mem1 admin')).toMatch(/member → admin/);
    expect(await command('mem1', '/agent role @adm1 member')).toBe(SAME);
    expect(await command('mem1', '/agent forget @adm1')).toBe(SAME);
    expect(await command('mem1', '/agent role @op member')).toBe(SAME);
    expect(await command('adm1', '/agent forget @op')).toBe(SAME);
    // The owner can, except that the operator's admin stays an admin.
    expect(await command('own1', '/agent role @op member')).toMatch(/set by the operator/);
    await clearGrants();
  });
});
