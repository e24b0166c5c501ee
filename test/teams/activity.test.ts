import { describe, expect, it } from 'vitest';
import { activitySchema, envelopeOf, stripBotMention } from '../../adapters/teams/activity.js';
import { envelopeSchema } from '../../src/core/envelope.js';
import { activity, CONTOSO, FABRIKAM } from './helpers.js';

const parse = (name: string, patch?: (a: Record<string, any>) => void) => activitySchema.parse(activity(name, 'http://127.0.0.1:1/', patch));
const at = new Date('2026-01-01T09:00:00Z');

describe('Teams activity → envelope', () => {
  it('maps a channel mention: tenant, aadObjectId, channel, reply-chain root, mention stripped', () => {
    const e = envelopeSchema.parse(envelopeOf(parse('channel_mention'), CONTOSO, at));
    expect(e).toMatchObject({
      kind: 'mention',
      workspace: { platform: 'teams', externalId: CONTOSO },
      user: { id: '0a8c6e4b-2d1f-4a3c-9e5b-7d9f1b3c5e7a', displayName: 'Alex Morgan' },
      channel: { id: '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2', kind: 'channel' },
      threadId: '1767258000123',
      messageId: '1767258000123',
      text: 'summarize the incident timeline for INC-2291',
    });
    expect(e.replyRoute).toMatchObject({
      conversationKey: '19:4b2d9f7a1c3e4f6a8b0d2e4f6a8c0e1b@thread.tacv2',
      conversationId: '19:8e6c4a2b0d1f3e5a7c9b1d3f5e7a9c0b@thread.tacv2;messageid=1767258000123',
      replyToId: '1767258000123',
    });
  });

  it('uses the root post as the thread of a reply in a chain', () => {
    const e = envelopeOf(parse('channel_mention_in_reply_chain'), CONTOSO, at);
    expect(e.threadId).toBe('1767257400456');
    expect(e.messageId).toBe('1767258060789');
  });

  it('maps personal chats to dm/direct and group chats to group/mention', () => {
    expect(envelopeOf(parse('personal_message'), CONTOSO, at)).toMatchObject({ kind: 'direct', channel: { kind: 'dm' } });
    expect(envelopeOf(parse('group_chat_message'), CONTOSO, at)).toMatchObject({
      kind: 'mention',
      channel: { kind: 'group', id: '19:7a5c3e1f9b2d4c6e8a0b2d4f6a8c0e2f@thread.v2' },
      threadId: '19:7a5c3e1f9b2d4c6e8a0b2d4f6a8c0e2f@thread.v2',
    });
  });

  it('turns `/agent …` after the mention into a command, and ignores channel posts that do not mention the bot', () => {
    expect(envelopeOf(parse('channel_mention', (a) => (a.text = '<at>Quorum</at> /agent status')), CONTOSO, at)).toMatchObject({
      kind: 'command',
      text: '/agent status',
    });
    expect(envelopeOf(parse('channel_mention', (a) => (a.entities = [])), CONTOSO, at).kind).toBe('unsupported');
  });

  it('strips only the bot mention, keeping other people mentioned', () => {
    const a = parse('channel_mention', (x) => {
      x.text = '<at>Quorum</at> ask <at>Jordan Lee</at> about it';
      x.entities.push({ type: 'mention', mentioned: { id: '29:jordan', name: 'Jordan Lee' }, text: '<at>Jordan Lee</at>' });
    });
    expect(stripBotMention(a)).toBe('ask <at>Jordan Lee</at> about it');
  });

  it('turns people mentioned in an /agent command into @<id> for the grammar', () => {
    const a = parse('channel_mention', (x) => {
      x.text = '<at>Quorum</at> /agent role <at>Jordan Lee</at> admin';
      x.entities.push({ type: 'mention', mentioned: { id: '29:jordan', name: 'Jordan Lee', aadObjectId: 'aad-jordan' }, text: '<at>Jordan Lee</at>' });
    });
    expect(stripBotMention(a)).toBe('/agent role @aad-jordan admin');
  });

  it('gives the same activity id in two tenants different idempotency keys, and a retry the same one', () => {
    const a = parse('personal_message');
    const contoso = envelopeOf(a, CONTOSO, at).idempotencyKey;
    expect(envelopeOf(a, CONTOSO, at).idempotencyKey).toBe(contoso);
    expect(envelopeOf(a, FABRIKAM, at).idempotencyKey).not.toBe(contoso);
  });

  it('keeps each requester apart in a private channel (closed until Graph is configured)', () => {
    const closed = (from: string) =>
      envelopeOf(
        parse('channel_mention', (x) => {
          x.channelData.channel.membershipType = 'private';
          x.from.aadObjectId = from;
        }),
        CONTOSO,
        at,
      ).threadId;
    expect(closed('user-a')).not.toBe(closed('user-b'));
  });
});
