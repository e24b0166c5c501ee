/**
 * Roles as decisions use them: the platform's facts, overridden by grants, with the operator's
 * bootstrap admins (QUORUM_ADMINS) as a floor. A grant lives in one workspace only (grants are
 * keyed by workspace and principal), and an external user stays external whatever a grant says.
 */
import type { WorkspaceRef } from '../envelope.js';
import { effectiveRole, roleRank, type Principal, type Role } from '../identity.js';

/** One QUORUM_ADMINS entry, as src/config.ts parses it. */
export interface BootstrapAdmin {
  platform: WorkspaceRef['platform'];
  workspace: string;
  user: string;
}

export function isOperatorAdmin(bootstrap: readonly BootstrapAdmin[] | undefined, workspace: WorkspaceRef, platformUserId: string): boolean {
  if (!bootstrap?.length) return false;
  return bootstrap.some(
    (b) =>
      b.platform === workspace.platform &&
      b.user === platformUserId &&
      (b.workspace === workspace.externalId || (workspace.enterpriseId !== undefined && b.workspace === workspace.enterpriseId)),
  );
}

/** The role decisions use for this principal in this workspace. */
export function roleOf(
  principal: Pick<Principal, 'platformRole' | 'grantedRole' | 'platformUserId'>,
  workspace: WorkspaceRef,
  bootstrap?: readonly BootstrapAdmin[],
): Role {
  const role = effectiveRole(principal);
  if (role === 'external') return role;
  if (isOperatorAdmin(bootstrap, workspace, principal.platformUserId) && roleRank(role) < roleRank('admin')) return 'admin';
  return role;
}

/** Counts owners and admins, for the "last owner/admin" rule. */
export function countPrivileged(roles: Iterable<Role>): { owners: number; admins: number } {
  let owners = 0;
  let admins = 0;
  for (const role of roles) {
    if (role === 'owner') owners++;
    else if (role === 'admin') admins++;
  }
  return { owners, admins };
}
