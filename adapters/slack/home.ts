/**
 * The App Home tab: the core's HomeView (src/core/home.ts) drawn as Block Kit and published with
 * views.publish, per person. Buttons carry the core's action ids; a click comes back through the
 * verified interaction entry point like any other.
 */
import type { webApi } from '@slack/bolt';
import type { HomeSection, HomeSurface, HomeView } from '../../src/core/ports.js';
import { neutralizeText } from '../../src/core/outgoing-text.js';
import type { TokenSource } from './tokens.js';

/** Slack's limits: 100 blocks per view, 3,000 characters per section text, 75 per button label. */
const MAX_BLOCKS = 100;
const MAX_SECTION_CHARS = 3_000;

/** mrkdwn's three control characters; the text is neutralized first (no mass mentions, no disguised links). */
function escape(text: string): string {
  return neutralizeText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function sectionBlocks(section: HomeSection): unknown[] {
  const body = [`*${escape(section.title)}*`, ...section.lines.map(escape)].join('\n');
  const blocks: unknown[] = [{ type: 'section', block_id: `home_${section.id}`, text: { type: 'mrkdwn', text: body.slice(0, MAX_SECTION_CHARS) } }];
  if (section.actions.length) {
    blocks.push({
      type: 'actions',
      block_id: `home_${section.id}_actions`,
      elements: section.actions.slice(0, 25).map((a) => ({
        type: 'button',
        action_id: a.actionId,
        text: { type: 'plain_text', text: a.label },
        ...(a.value ? { value: a.value } : {}),
        ...(a.style ? { style: a.style } : {}),
      })),
    });
  }
  return blocks;
}

/** The Home tab's view: one section per part, a divider before the admin parts. */
export function homeBlocks(view: HomeView): { type: 'home'; blocks: unknown[] } {
  const blocks: unknown[] = [];
  for (const section of view.sections) {
    if (section.id === 'settings') blocks.push({ type: 'divider' }, { type: 'header', text: { type: 'plain_text', text: 'For admins' } });
    blocks.push(...sectionBlocks(section));
  }
  return { type: 'home', blocks: blocks.slice(0, MAX_BLOCKS) };
}

export function createHomeSurface(client: webApi.WebClient, tokens: TokenSource): HomeSurface {
  return {
    where: "in Quorum's Home tab (open the Quorum app in Slack)",
    async show(workspace, userId, view) {
      const { token } = await tokens.forWorkspace(workspace);
      await client.views.publish({ token, user_id: userId, view: homeBlocks(view) as never });
      return true;
    },
  };
}
