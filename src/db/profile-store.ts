/**
 * ProfileStore on drizzle: the model choices and instructions of a workspace and its channels,
 * each change written with its audit entry (old and new value) in one transaction.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Scope } from '../core/identity.js';
import type { ChangeResult, Profile, ProfileChange, ProfileStore } from '../core/ports.js';
import { appendAudit } from './audit-store.js';
import { signerOf } from './audit-signing.js';
import type { Db } from './client.js';
import { channelProfiles, channels, workspaceProfiles } from './schema.js';
import { upsertChannel } from './turn-store.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const NONE = { model: 'default', instructions: 'none' } as const;

/** What the admin and the audit entry see: a name, or the instructions in full (they are capped). */
const show = (v: string | null | undefined, field: 'model' | 'instructions') => v ?? NONE[field];

async function applyWorkspace(tx: Tx, scope: Scope, change: ProfileChange): Promise<ChangeResult & { setting: string }> {
  await tx.insert(workspaceProfiles).values({ workspaceId: scope.workspaceId }).onConflictDoNothing();
  const [row] = await tx.select().from(workspaceProfiles).where(eq(workspaceProfiles.workspaceId, scope.workspaceId)).for('update');
  const key = change.kind === 'instructions' ? 'instructions' : change.tier === 'small' ? 'cheapModel' : 'model';
  const value = change.kind === 'instructions' ? change.text : change.name;
  await tx
    .update(workspaceProfiles)
    .set({ [key]: value, updatedAt: sql`now()` })
    .where(eq(workspaceProfiles.workspaceId, scope.workspaceId));
  const field = change.kind === 'instructions' ? 'instructions' : 'model';
  const setting = key === 'cheapModel' ? 'model:cheap' : field;
  return { setting, old: show(row?.[key], field), new: show(value, field) };
}

async function applyChannel(tx: Tx, scope: Scope, change: ProfileChange & { channel: NonNullable<ProfileChange['channel']> }) {
  const channel = await upsertChannel(tx, scope, change.channel);
  const where = and(eq(channelProfiles.workspaceId, scope.workspaceId), eq(channelProfiles.channelId, channel.id));
  await tx.insert(channelProfiles).values({ workspaceId: scope.workspaceId, channelId: channel.id }).onConflictDoNothing();
  const [row] = await tx.select().from(channelProfiles).where(where).for('update');
  const field = change.kind === 'instructions' ? 'instructions' : 'model';
  const value = change.kind === 'instructions' ? change.text : change.name;
  await tx.update(channelProfiles).set({ [field]: value, updatedAt: sql`now()` }).where(where);
  return { setting: `${field}:${change.channel.id}`, old: show(row?.[field], field), new: show(value, field) };
}

export function createProfileStore(db: Db): ProfileStore {
  return {
    async profile(scope, channelExternalId): Promise<Profile> {
      const [ws, ch] = await Promise.all([
        db.select().from(workspaceProfiles).where(eq(workspaceProfiles.workspaceId, scope.workspaceId)),
        db
          .select({ model: channelProfiles.model, instructions: channelProfiles.instructions })
          .from(channelProfiles)
          .innerJoin(channels, and(eq(channels.id, channelProfiles.channelId), eq(channels.workspaceId, scope.workspaceId)))
          .where(and(eq(channelProfiles.workspaceId, scope.workspaceId), eq(channels.externalId, channelExternalId))),
      ]);
      return {
        workspace: { model: ws[0]?.model ?? null, cheapModel: ws[0]?.cheapModel ?? null, instructions: ws[0]?.instructions ?? null },
        channel: { model: ch[0]?.model ?? null, instructions: ch[0]?.instructions ?? null },
      };
    },

    apply(scope, actor, change) {
      return db.transaction(async (tx) => {
        const result = change.channel ? await applyChannel(tx, scope, { ...change, channel: change.channel }) : await applyWorkspace(tx, scope, change);
        await appendAudit(
          tx,
          scope,
          {
            action: 'admin_change',
            outcome: 'ok',
            actorPrincipalId: actor.principalId,
            channelExternalId: actor.channelExternalId,
            detail: { setting: result.setting, old: result.old, new: result.new },
          },
          signerOf(db),
        );
        return { old: result.old, new: result.new };
      });
    },
  };
}
