/** Roles and principals: who someone is inside one workspace. */
import { z } from 'zod';

/** Highest first. */
export const roleSchema = z.enum(['owner', 'admin', 'member', 'guest', 'external']);
export type Role = z.infer<typeof roleSchema>;

const rank: Record<Role, number> = { owner: 4, admin: 3, member: 2, guest: 1, external: 0 };

export function roleRank(role: Role): number {
  return rank[role];
}

export function atLeast(role: Role, floor: Role): boolean {
  return rank[role] >= rank[floor];
}

/** What the platform says about a user (Slack users.info, Teams member lookup). */
export const userFactsSchema = z.object({
  platformRole: roleSchema,
  deleted: z.boolean().default(false),
  displayName: z.string().optional(),
});
export type UserFacts = z.infer<typeof userFactsSchema>;

declare const scopeBrand: unique symbol;
/**
 * Proof that a workspace was resolved. Every repository function takes one first, so a query
 * without a workspace does not type-check. Only the store creates scopes.
 */
export type Scope = { readonly workspaceId: string; readonly platform: 'slack' | 'teams' | 'console' } & {
  readonly [scopeBrand]: true;
};

export interface Principal {
  id: string;
  workspaceId: string;
  platformUserId: string;
  displayName: string | null;
  /** The role the platform gives, before grants. */
  platformRole: Role;
  /** A grant set by a workspace admin, which overrides the platform role. */
  grantedRole: Role | null;
}

/** The role that decisions use: an external user stays external whatever a grant says. */
export function effectiveRole(p: Pick<Principal, 'platformRole' | 'grantedRole'>): Role {
  if (p.platformRole === 'external') return 'external';
  return p.grantedRole ?? p.platformRole;
}
