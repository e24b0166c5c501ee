/**
 * Credentials of connected tools (issue 16). A workspace secret is set by an admin, and a person
 * links their own account, both through a private dialog (`credentials:secret`, `credentials:link`):
 * a secret is never read from a channel message. `forCall` is the seam the MCP transport asks:
 * a per-user call gets the requester's own token, never anyone else's and never the workspace's.
 */
import { z } from 'zod';
import { decide } from '../access/policy.js';
import type { Interaction, InteractionAnswer, InteractionHandler } from '../interactions.js';
import type { AuditLog, CallCredentials, CredentialStore, OutgoingReply, ToolCredentials } from '../ports.js';
import type { Role, Scope } from '../identity.js';

/** A connection's name as the catalog spells it (lower case, no dot: tools are `connection.tool`). */
export const connectionNameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/);
/** A token or secret as pasted: one line, no spaces. */
const secretSchema = z.string().trim().min(1).max(4_000).regex(/^\S+$/);

export function createToolCredentials(store: CredentialStore): ToolCredentials {
  return {
    async forCall(scope, connection, auth, requesterPrincipalId): Promise<CallCredentials> {
      if (auth === 'none') return { headers: {} };
      const secret = await store.read(scope, connection, auth === 'workspace' ? null : requesterPrincipalId);
      if (secret === null) return { unlinked: true };
      return { headers: { authorization: `Bearer ${secret}` } };
    },
    linked: (scope, principalId) => store.linked(scope, principalId),
  };
}

/** The private prompt an unlinked requester gets instead of a failure in the channel. */
export function linkPrompt(connection: string): OutgoingReply {
  return {
    kind: 'notice',
    private: true,
    text: `${connection} works with each person's own account, and yours is not linked yet. Link it to use ${connection}; only you see this.`,
    actions: [{ actionId: 'credentials:link', label: `Link ${connection}`.slice(0, 75), value: connection }],
  };
}

/** Who clicked, as the platform and Quorum's grants say. */
export type WhoIs = (interaction: Interaction) => Promise<{ scope: Scope; principalId: string; role: Role }>;

export interface CredentialsHandlerDeps {
  store: CredentialStore;
  audit: AuditLog;
  whoIs: WhoIs;
  /** After a workspace secret is saved: lists the connection's tools with it; answers a sentence for the admin. */
  secretSaved?: (who: { scope: Scope; principalId: string }, workspace: Interaction['workspace'], connection: string) => Promise<string>;
}

const notice = (text: string): InteractionAnswer => ({ kind: 'notice', text });

function tokenDialog(actionId: 'credentials:token' | 'credentials:workspace', connection: string): InteractionAnswer {
  const own = actionId === 'credentials:token';
  return {
    kind: 'dialog',
    dialog: {
      actionId,
      title: own ? 'Link your account' : 'Workspace secret',
      submitLabel: 'Save',
      intro: own
        ? `Paste a personal access token for ${connection}. It is stored encrypted and used only for your own requests.`
        : `Paste the secret ${connection} expects from this workspace. It is stored encrypted and never shown again.`,
      fields: [{ name: 'secret', label: own ? 'Personal token' : 'Secret', kind: 'text', optional: false, maxLength: 4_000 }],
      value: connection,
    },
  };
}

export function createCredentialsHandler(deps: CredentialsHandlerDeps): InteractionHandler {
  return {
    prefix: 'credentials',
    async handle(interaction) {
      const connection = connectionNameSchema.safeParse(interaction.value);
      if (!connection.success) return notice('That connection name is not valid; nothing was saved.');
      const name = connection.data;
      const who = await deps.whoIs(interaction);
      // Setting a workspace secret is an admin change, decided like `/agent tools`.
      const admin = decide({ principalId: who.principalId, role: who.role, workspaceId: who.scope.workspaceId }, { kind: 'command', command: 'tools' }, {
        kind: 'workspace',
        workspaceId: who.scope.workspaceId,
      }).allow;
      switch (interaction.actionId) {
        case 'credentials:link':
          return tokenDialog('credentials:token', name);
        case 'credentials:secret':
          return admin ? tokenDialog('credentials:workspace', name) : notice('Only workspace admins set a connection\'s secret.');
        case 'credentials:token':
        case 'credentials:workspace': {
          if (interaction.kind !== 'submit') return notice('Paste the secret into the dialog; it is never read from a message.');
          const workspace = interaction.actionId === 'credentials:workspace';
          if (workspace && !admin) return notice('Only workspace admins set a connection\'s secret. Nothing was saved.');
          const secret = secretSchema.safeParse(interaction.fields.secret ?? '');
          if (!secret.success) return { kind: 'invalid', errors: { secret: 'Paste the token as one line, without spaces (at most 4,000 characters).' } };
          const { replaced } = await deps.store.save(who.scope, name, workspace ? null : who.principalId, secret.data);
          await deps.audit.append(who.scope, {
            action: workspace ? 'admin_change' : 'command',
            outcome: 'ok',
            actorPrincipalId: who.principalId,
            // Old and new say whether a secret was there, never what it is.
            detail: workspace
              ? { setting: `tool_secret:${name}`, old: replaced ? 'set' : 'none', new: 'set' }
              : { command: 'link_account', connection: name, old: replaced ? 'linked' : 'none', new: 'linked' },
          });
          const listed = workspace && deps.secretSaved ? ` ${await deps.secretSaved(who, interaction.workspace, name)}` : '';
          return notice(workspace ? `The secret for ${name} is saved (encrypted).${listed}` : `Your ${name} account is linked. Quorum uses it only for your own requests.`);
        }
        default:
          return notice('That button is not one Quorum knows.');
      }
    },
  };
}

/** For `/agent connections`: whether this person has linked each per-user connection. */
export async function linkedStatus(credentials: ToolCredentials, scope: Scope, principalId: string, perUser: readonly string[]): Promise<string[]> {
  const linked = new Set(await credentials.linked(scope, principalId));
  return perUser.map((c) => `${c}: ${linked.has(c) ? 'linked (your own account)' : 'not linked'}`);
}
