/**
 * The prompts offered when someone opens Quorum in a fresh place (Slack's assistant panel, a
 * Teams 1:1 chat): one set for everyone, a different one for admins and owners. Each prompt is
 * an ordinary question, so picking one goes through the same turn as typing it.
 */
import { atLeast, type Role } from './identity.js';

export interface SuggestedPrompt {
  /** What the button says (Slack shows at most about 40 characters). */
  title: string;
  /** The question sent when it is picked. */
  message: string;
}

const EVERYONE: SuggestedPrompt[] = [
  { title: 'Summarize this channel', message: 'Summarize the recent discussion in the channel I am looking at.' },
  { title: 'Find a past discussion', message: 'Find where we discussed the last release, and summarize what was decided.' },
  { title: 'What do you remember about me?', message: 'What notes have you kept for me?' },
];

const ADMINS: SuggestedPrompt[] = [
  { title: 'Workspace status', message: 'How is the workspace doing: usage today, limits and budget?' },
  { title: 'Summarize this channel', message: 'Summarize the recent discussion in the channel I am looking at.' },
  { title: 'Who changed settings lately?', message: 'Which settings were changed this week, and by whom?' },
  { title: 'What do you remember about me?', message: 'What notes have you kept for me?' },
];

const ABOUT_CHANNEL = (p: SuggestedPrompt) => p.message.includes('the channel I am looking at');

/**
 * At most four (Slack's limit): the admins' set for admins and owners. `panel`: Slack's assistant
 * panel, which knows the channel the person is looking at; `chat`: a 1:1 chat, which does not.
 */
export function suggestedPrompts(role: Role, place: 'panel' | 'chat' = 'panel'): SuggestedPrompt[] {
  const set = atLeast(role, 'admin') ? ADMINS : EVERYONE;
  if (place === 'panel') return set;
  return [...set.filter((p) => !ABOUT_CHANNEL(p)), { title: 'What can you do?', message: 'What can you do for me, and how do I ask?' }];
}
