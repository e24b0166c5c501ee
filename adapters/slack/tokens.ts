/**
 * Which bot token answers for a workspace: the one configured token (single workspace) or the
 * installation stored through the core's InstallationRecords port (OAuth, many workspaces).
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import { LRUCache } from 'lru-cache';
import { QuorumError } from '../../src/core/errors.js';
import type { InstallationRecords, Logger } from '../../src/core/ports.js';

export interface BotAuth {
  token: string;
  botUserId?: string;
  botId?: string;
}

export interface TokenSource {
  forWorkspace(workspace: WorkspaceRef): Promise<BotAuth>;
  /** Forget cached credentials of a workspace (uninstall). */
  forget(workspace: WorkspaceRef): void;
}

/** Install key: the team id, or `enterprise:<id>` for an Enterprise Grid org-wide install. */
export function installKeyOf(q: { teamId?: string | undefined; enterpriseId?: string | undefined; isEnterpriseInstall?: boolean | undefined }): string {
  if (q.isEnterpriseInstall && q.enterpriseId) return `enterprise:${q.enterpriseId}`;
  if (q.teamId) return q.teamId;
  if (q.enterpriseId) return `enterprise:${q.enterpriseId}`;
  throw new QuorumError('UNKNOWN_WORKSPACE', 'an installation query without team or enterprise');
}

/** Bolt's InstallationStore on the core port: the whole installation (tokens included) is the sealed secret. */
export function createBoltInstallationStore(records: InstallationRecords, log: Logger): InstallationStore {
  return {
    async storeInstallation(installation: Installation) {
      const isEnterpriseInstall = installation.isEnterpriseInstall === true;
      const teamId = installation.team?.id;
      const enterpriseId = installation.enterprise?.id;
      const installKey = installKeyOf({ teamId, enterpriseId, isEnterpriseInstall });
      const externalId = isEnterpriseInstall ? enterpriseId : teamId;
      await records.save({
        platform: 'slack',
        installKey,
        workspace: externalId ? { platform: 'slack', externalId, ...(enterpriseId ? { enterpriseId } : {}) } : null,
        secret: JSON.stringify(installation),
        data: { teamId: teamId ?? null, enterpriseId: enterpriseId ?? null, isEnterpriseInstall, botUserId: installation.bot?.userId ?? null },
      });
      log.info({ event: 'slack.installed', installKey }, 'Slack installation stored');
    },
    async fetchInstallation(query: InstallationQuery<boolean>) {
      const installKey = installKeyOf(query);
      const found = await records.find('slack', installKey);
      if (!found) {
        log.warn({ event: 'slack.unknown_workspace', installKey }, 'event for a workspace without an installation refused');
        throw new QuorumError('UNKNOWN_WORKSPACE', `no Slack installation for ${installKey}`);
      }
      return JSON.parse(found.secret) as Installation<'v1' | 'v2', boolean>;
    },
    async deleteInstallation(query: InstallationQuery<boolean>) {
      await records.remove('slack', installKeyOf(query));
    },
  };
}

/** Many workspaces: the team's own install first, then its enterprise's org-wide install. */
export function installationTokens(records: InstallationRecords): TokenSource {
  return {
    async forWorkspace(workspace) {
      const keys = [workspace.externalId, ...(workspace.enterpriseId ? [`enterprise:${workspace.enterpriseId}`] : [])];
      for (const key of keys) {
        const found = await records.find('slack', key);
        if (!found) continue;
        const installation = JSON.parse(found.secret) as Installation;
        const token = installation.bot?.token;
        if (token) return { token, botUserId: installation.bot?.userId, botId: installation.bot?.id };
      }
      throw new QuorumError('UNKNOWN_WORKSPACE', `no Slack installation for ${workspace.externalId}`);
    },
    forget() {},
  };
}

/**
 * Installation reads cached for a minute: Bolt's authorize and every reply ask for the same
 * installation, and each read is a database round trip. This instance's own saves and removals
 * apply at once; another instance's re-install is seen within the TTL.
 */
export function cachedInstallations(records: InstallationRecords, ttlMs = 60_000): InstallationRecords {
  const found = new LRUCache<string, Promise<Awaited<ReturnType<InstallationRecords['find']>>>>({ max: 10_000, ttl: ttlMs });
  const keyOf = (platform: string, installKey: string) => `${platform}/${installKey}`;
  return {
    find(platform, installKey) {
      const key = keyOf(platform, installKey);
      const hit = found.get(key);
      if (hit) return hit;
      const read = records.find(platform, installKey);
      found.set(key, read);
      read.catch(() => found.delete(key));
      return read;
    },
    async save(input) {
      found.delete(keyOf(input.platform, input.installKey));
      await records.save(input);
      found.delete(keyOf(input.platform, input.installKey));
    },
    async remove(platform, installKey) {
      await records.remove(platform, installKey);
      found.delete(keyOf(platform, installKey));
    },
    async markUninstalled(workspace) {
      await records.markUninstalled(workspace);
      // Rare: forget the platform's cached reads rather than work out every key of the workspace.
      for (const key of [...found.keys()]) if (key.startsWith(`${workspace.platform}/`)) found.delete(key);
    },
  };
}

/** One workspace, one token from the environment. */
export function singleTokens(token: string): TokenSource {
  return { forWorkspace: async () => ({ token }), forget() {} };
}
