/**
 * Credentials of connected tools (issue 16). A workspace secret is set by an admin, and a person
 * links their own account, both through a private dialog (`credentials:secret`, `credentials:link`):
 * a secret is never read from a channel message. `forCall` is the seam the MCP transport asks:
 * a per-user call gets the requester's own token, never anyone else's and never the workspace's.
 */
import { z } from 'zod';
import { decide } from '../access/policy.js';
import type { Interaction, InteractionAnswer, InteractionHandler } from '../interactions.js';
import type { AuditLog, CallCredentials, CredentialKind, CredentialStore, OutgoingReply, ToolCredentials } from '../ports.js';
import type { Role, Scope } from '../identity.js';

/** Where a person's browser comes back from a connected tool's OAuth sign-in (under PUBLIC_URL). */
export const OAUTH_CALLBACK_PATH = '/oauth/mcp/callback';

/** A connection's name as the catalog spells it (lower case, no dot: tools are `connection.tool`). */
export const connectionNameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,39}$/);
/** A token or secret as pasted: one line, no spaces. */
const secretSchema = z.string().trim().min(1).max(4_000).regex(/^\S+$/);

/**
 * The tokens of a sign-in through a connection's own OAuth, as src/tools seals them (the SDK's
 * OAuthTokens, with the issuer that granted them); the access token is what a call carries.
 */
export const oauthLinkSchema = z.object({
  tokens: z.looseObject({ access_token: z.string().min(1), token_type: z.string().optional(), refresh_token: z.string().optional() }),
});

/** The bearer of a stored credential: the pasted secret, or the access token of an OAuth link (null: unreadable, so unlinked). */
export function bearerOf(credential: { secret: string; kind: CredentialKind }): string | null {
  if (credential.kind === 'token') return credential.secret;
  try {
    return oauthLinkSchema.parse(JSON.parse(credential.secret)).tokens.access_token;
  } catch {
    return null;
  }
}

export function createToolCredentials(store: CredentialStore): ToolCredentials {
  return {
    async forCall(scope, connection, auth, requesterPrincipalId): Promise<CallCredentials> {
      if (auth === 'none') return { headers: {} };
      const stored = await store.read(scope, connection, auth === 'workspace' ? null : requesterPrincipalId);
      const bearer = stored && bearerOf(stored);
      if (!bearer) return { unlinked: true };
      return { headers: { authorization: `Bearer ${bearer}` } };
    },
    linked: (scope, principalId) => store.linked(scope, principalId),
  };
}

/**
 * The private prompt an unlinked requester gets instead of a failure in the channel: a "Sign in"
 * link when the server offers its own OAuth (the URL carries a state bound to this person and
 * connection, used once, valid 10 minutes), and always the private dialog for a personal token.
 */
export function linkPrompt(connection: string, signInUrl?: string): OutgoingReply {
  const token = { actionId: 'credentials:link', label: (signInUrl ? `Paste a token for ${connection}` : `Link ${connection}`).slice(0, 75), value: connection };
  return {
    kind: 'notice',
    private: true,
    text: signInUrl
      ? `${connection} works with each person's own account, and yours is not linked yet. Sign in to ${connection} (the link works once, for 10 minutes), or paste a personal token; only you see this.`
      : `${connection} works with each person's own account, and yours is not linked yet. Link it to use ${connection}; only you see this.`,
    actions: signInUrl ? [{ actionId: 'credentials:signin', label: `Sign in to ${connection}`.slice(0, 75), value: connection, url: signInUrl, style: 'primary' }, token] : [token],
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
        case 'credentials:signin':
          // A link button: the browser opens the URL; Slack still reports the click, which needs no answer.
          return { kind: 'none' };
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
