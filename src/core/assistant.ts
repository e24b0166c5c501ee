/**
 * Slack's assistant panel, in the core's terms: a thread opened from some channel remembers that
 * channel (the thread context), which a question in the thread is ABOUT (envelope `about`);
 * a thread that starts gets the suggested prompts of the person's role; a Home opened is shown.
 */
import { roleOf } from './access/roles.js';
import type { UserRef, WorkspaceRef } from './envelope.js';
import { refreshHome } from './home.js';
import type { AssistantThread } from './ports.js';
import { suggestedPrompts, type SuggestedPrompt } from './suggested-prompts.js';
import { resolveRequester } from './turn/resolve.js';
import type { CoreDeps } from './turn/deps.js';

export interface ThreadRef {
  /** The DM channel the thread is in, and its root ts. */
  channelId: string;
  threadTs: string;
}

/** What the Slack adapter asks of the core for the panel and the Home tab. */
export interface AssistantPanel {
  /** A thread started (remember its context); answers the prompts to offer, none for someone the platform no longer knows. */
  started(workspace: WorkspaceRef, user: UserRef, thread: ThreadRef, contextChannelId: string | null): Promise<SuggestedPrompt[]>;
  contextChanged(workspace: WorkspaceRef, thread: ThreadRef, contextChannelId: string | null): Promise<void>;
  /** A question in a DM thread: the thread's context when it is an assistant thread, else null. */
  question(workspace: WorkspaceRef, thread: ThreadRef): Promise<AssistantThread | null>;
  /** The person opened their Home tab. */
  openedHome(workspace: WorkspaceRef, user: UserRef): Promise<void>;
}

export function createAssistantPanel(deps: CoreDeps): AssistantPanel {
  const threads = deps.assistantThreads;
  return {
    async started(workspace, user, thread, contextChannelId) {
      const { scope, principal, deleted } = await resolveRequester(deps, { workspace, user });
      await threads?.remember(scope, thread, contextChannelId);
      return deleted ? [] : suggestedPrompts(roleOf(principal, workspace, deps.bootstrapAdmins));
    },
    async contextChanged(workspace, thread, contextChannelId) {
      if (!threads) return;
      await threads.remember(await deps.turns.resolveWorkspace(workspace), thread, contextChannelId);
    },
    async question(workspace, thread) {
      if (!threads) return null;
      return threads.ask(await deps.turns.resolveWorkspace(workspace), thread);
    },
    openedHome: (workspace, user) => refreshHome(deps, workspace, user),
  };
}
