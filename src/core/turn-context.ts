/** What a turn reads before it decides, for stores that read it step by step (TurnStore.openTurn). */
import type { OpenTurnInput, TurnContext, TurnStore } from './ports.js';
import type { Scope } from './identity.js';

/** A DM has one conversation per owner; its key names the owner's principal. */
export const dmThreadKey = (principalId: string) => `dm:${principalId}`;

export async function openTurnStepByStep(
  store: Pick<TurnStore, 'resolvePrincipal' | 'resolveConversation' | 'settings' | 'listHistory'>,
  scope: Scope,
  input: OpenTurnInput,
): Promise<TurnContext> {
  const principal = await store.resolvePrincipal(scope, input.user, input.facts);
  const [conversation, settings] = await Promise.all([
    store.resolveConversation(scope, {
      channel: input.channel,
      threadKey: input.threadKey ?? dmThreadKey(principal.id),
      ownerPrincipalId: input.threadKey === null ? principal.id : null,
    }),
    store.settings(scope),
  ]);
  const history = await store.listHistory(scope, conversation.id, input.historyLimit);
  return { principal, conversation, settings, history };
}
