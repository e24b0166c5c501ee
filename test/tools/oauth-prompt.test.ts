/**
 * The sign-in link of the private link prompt on each platform (a Slack link button, a Teams
 * Action.OpenUrl, never a postback), what a link button may point at, and PUBLIC_URL's checks.
 */
import { describe, expect, it } from 'vitest';
import { messageWithActions } from '../../adapters/slack/markdown.js';
import { actionsAttachment } from '../../adapters/teams/cards.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { linkPrompt } from '../../src/core/confirm/credentials.js';
import { replyActionSchema } from '../../src/core/interactions.js';

const URL_ = 'https://auth.example.com/authorize?client_id=c1&state=s1&code_challenge=x&code_challenge_method=S256';

describe('the link prompt with a sign-in', () => {
  it('is private, offers the sign-in link and the personal token', () => {
    const prompt = linkPrompt('tix', URL_);
    expect(prompt).toMatchObject({ private: true, actions: [{ actionId: 'credentials:signin', url: URL_ }, { actionId: 'credentials:link', value: 'tix' }] });
    expect(prompt.actions![1]!.url).toBeUndefined();
    expect(linkPrompt('tix').actions).toEqual([expect.objectContaining({ actionId: 'credentials:link' })]);
    expect(linkPrompt('tix').actions![0]!.url).toBeUndefined();
  });

  it('is a link button in Slack and an Action.OpenUrl in Teams', () => {
    const actions = linkPrompt('tix', URL_).actions!;
    const block = messageWithActions('text', actions).blocks.at(-1) as { type: string; elements: { url?: string; action_id: string }[] };
    expect(block.type).toBe('actions');
    expect(block.elements[0]).toMatchObject({ action_id: 'credentials:signin', url: URL_ });
    expect(block.elements[1]!.url).toBeUndefined();
    const card = actionsAttachment(actions).content as { actions: Record<string, unknown>[] };
    expect(card.actions[0]).toEqual({ type: 'Action.OpenUrl', title: 'Sign in to tix', url: URL_ });
    expect(card.actions[1]).toMatchObject({ type: 'Action.Submit' });
  });

  it('a link button points only at http(s)', () => {
    expect(replyActionSchema.safeParse({ actionId: 'credentials:signin', label: 'x', url: URL_ }).success).toBe(true);
    expect(replyActionSchema.safeParse({ actionId: 'credentials:signin', label: 'x', url: 'javascript:alert(1)' }).success).toBe(false);
    expect(replyActionSchema.safeParse({ actionId: 'credentials:signin', label: 'x', url: 'data:text/html,hi' }).success).toBe(false);
  });
});

describe('PUBLIC_URL', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig({ NODE_ENV: 'test', ...env });
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it('is the base address, without a trailing slash', () => {
    expect(loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'https://quorum.example.com/' }).PUBLIC_URL).toBe('https://quorum.example.com');
    expect(loadConfig({ NODE_ENV: 'test' }).PUBLIC_URL).toBeUndefined();
  });

  it('refuses a query, another scheme, and plain http in production, with a clear message', () => {
    expect(problems({ PUBLIC_URL: 'https://quorum.example.com/?a=1' })).toEqual([expect.stringContaining('PUBLIC_URL: must be the base address')]);
    expect(problems({ PUBLIC_URL: 'ftp://quorum.example.com' })).toEqual(['PUBLIC_URL: must be a URL']);
    expect(problems({ NODE_ENV: 'production', PUBLIC_URL: 'http://quorum.example.com', QUORUM_ENCRYPTION_KEY: 'k'.repeat(44), SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' })).toContain(
      'PUBLIC_URL: must start with https:// when NODE_ENV is production (browsers bring sign-in codes to it)',
    );
  });
});
