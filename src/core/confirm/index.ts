/** The interaction handlers of connected tools (Confirm/Cancel, linking accounts), made from the core's deps. */
import { roleOf } from '../access/roles.js';
import type { Intake } from '../intake.js';
import type { WorkspaceRef } from '../envelope.js';
import type { Scope } from '../identity.js';
import type { InteractionHandler } from '../interactions.js';
import type { CredentialStore } from '../ports.js';
import { portsFor, type CoreDeps } from '../turn/deps.js';
import { createCredentialsHandler, type WhoIs } from './credentials.js';
import { createConfirmHandler } from './handler.js';

/** Who clicked: the workspace, their principal and role, from the verified interaction and the platform's directory. */
export function whoIsFor(deps: CoreDeps): WhoIs {
  return async (interaction) => {
    const scope = await deps.turns.resolveWorkspace(interaction.workspace);
    const facts = await portsFor(deps, interaction.workspace.platform).directory.lookup(interaction.workspace, interaction.user);
    const principal = await deps.turns.resolvePrincipal(scope, interaction.user, facts);
    // Someone the platform no longer knows acts as nobody.
    const role = facts.deleted ? 'external' : roleOf(principal, interaction.workspace, deps.bootstrapAdmins);
    return { scope, principalId: principal.id, role };
  };
}

export function toolInteractionHandlers(deps: CoreDeps, options: { intake: Intake; credentials: CredentialStore }): InteractionHandler[] {
  const whoIs = whoIsFor(deps);
  const admin = deps.connections;
  // The secret just saved is used at once: the connection's tools are listed with it.
  const secretSaved = admin
    ? (who: { scope: Scope; principalId: string }, workspace: WorkspaceRef, connection: string) => admin.discoverWithSecret(who.scope, workspace, who.principalId, connection)
    : undefined;
  const handlers: InteractionHandler[] = [createCredentialsHandler({ store: options.credentials, audit: deps.audit, whoIs, ...(secretSaved ? { secretSaved } : {}) })];
  const confirmations = deps.agent.confirm?.confirmations;
  if (confirmations) handlers.push(createConfirmHandler({ turns: deps.turns, confirmations, intake: options.intake, audit: deps.audit, log: deps.log }));
  return handlers;
}
