/**
 * The `settings` interactions: `settings:<setting>` (a Home button, e.g. `settings:budget`)
 * answers with that setting's form; `settings:save` (the form submitted, its setting in `value`: a Slack modal, a Teams card) writes it as `/agent`
 * commands and runs them through answerCommand, as the verified clicker, so the runner's checks
 * and audit apply unchanged: someone who is not (or no longer) an admin is refused by the
 * runner itself. The Home is then refreshed where the platform has one.
 */
import { decide, denyExplanation } from './access/policy.js';
import { roleOf } from './access/roles.js';
import type { ChannelRef, EnvelopeInput } from './envelope.js';
import { envelopeSchema } from './envelope.js';
import { refreshHome } from './home.js';
import type { Interaction, InteractionAnswer, InteractionHandler } from './interactions.js';
import { commandsOf, isSettingKey, settingsForm } from './settings-forms.js';
import { answerCommand } from './turn.js';
import { resolveRequester } from './turn/resolve.js';
import type { CoreDeps } from './turn/deps.js';

/** Where a change made on Slack's Home tab is recorded as made (the tab is no conversation). */
export const HOME_CHANNEL: ChannelRef = { id: 'app_home', kind: 'dm' };

const UNKNOWN = 'That setting is not one Quorum knows, so nothing changed.';

export function createSettingsHandler(deps: CoreDeps): InteractionHandler {
  return {
    prefix: 'settings',
    async handle(interaction) {
      const verb = interaction.actionId.slice('settings:'.length);
      if (isSettingKey(verb)) return open(deps, interaction, verb);
      if (verb === 'save' && isSettingKey(interaction.value)) return save(deps, interaction, interaction.value);
      return { kind: 'notice', text: UNKNOWN };
    },
  };
}

/** The form, filled with what is in force; only for those who may change settings (the runner checks again on save). */
async function open(deps: CoreDeps, interaction: Interaction, key: Parameters<typeof settingsForm>[0]): Promise<InteractionAnswer> {
  const { scope, principal, deleted } = await resolveRequester(deps, interaction);
  const role = roleOf(principal, interaction.workspace, deps.bootstrapAdmins);
  const decision = decide(
    { principalId: principal.id, role, workspaceId: scope.workspaceId },
    { kind: 'command', command: key === 'limits' ? 'limit' : key },
    { kind: 'workspace', workspaceId: scope.workspaceId },
  );
  if (deleted) return { kind: 'notice', text: denyExplanation.admins_only };
  if (!decision.allow) return { kind: 'notice', text: denyExplanation[decision.reason] };
  return { kind: 'dialog', dialog: settingsForm(key, await deps.turns.settings(scope)) };
}

async function save(deps: CoreDeps, interaction: Interaction, key: Parameters<typeof settingsForm>[0]): Promise<InteractionAnswer> {
  const written = commandsOf(key, interaction.fields);
  // A modal shows errors on its fields; a form inline on a message (a Teams card) has no place for them: say them.
  if (!written.ok) return interaction.message ? { kind: 'notice', text: `Nothing changed. ${Object.values(written.errors).join(' ')}` } : { kind: 'invalid', errors: written.errors };
  const answers: string[] = [];
  for (const [i, command] of written.commands.entries()) {
    const envelope: EnvelopeInput = {
      kind: 'command',
      idempotencyKey: `${interaction.idempotencyKey}:${i}`.slice(0, 256),
      workspace: interaction.workspace,
      user: interaction.user,
      channel: interaction.channel ?? HOME_CHANNEL,
      messageId: interaction.message?.id ?? interaction.idempotencyKey,
      text: command.text,
      receivedAt: interaction.receivedAt,
      replyRoute: interaction.replyRoute,
    };
    answers.push((await answerCommand(deps, envelopeSchema.parse(envelope))).text);
  }
  // The Home shows what is in force now (also after a refusal: a stale view is corrected).
  await refreshHome(deps, interaction.workspace, interaction.user, {
    ...(interaction.channel ? { channel: interaction.channel } : {}),
    ...(interaction.message ? { messageId: interaction.message.id } : {}),
  }).catch((err: unknown) => deps.log.warn({ event: 'home.refresh_failed', err: (err as Error).message.slice(0, 200) }, 'Home not refreshed'));
  return { kind: 'notice', text: answers.join('\n') };
}
