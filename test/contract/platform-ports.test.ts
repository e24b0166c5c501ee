/**
 * One contract for the platform ports (ReplySink with its progress and streams, MembershipSource,
 * UserDirectory, ConversationHistory), run over Slack and Teams: the ports main.ts wires, on the
 * local fakes of each platform's API, aimed at places made from recorded fixtures. What differs
 * between the platforms (where a reply lands, what streams) is in ./platforms.ts; what a port
 * promises is here, once.
 */
import { describe, expect, it } from 'vitest';
import { isQuorumError } from '../../src/core/errors.js';
import type { DeliveryMemory } from '../../src/core/ports.js';
import { deliveryMemoryOf } from '../../src/core/reply-memory.js';
import { drivers } from '../support/db.js';
import { useSlack, useTeams, type PlatformUnderTest } from './platforms.js';

const platforms: [string, (driver: (typeof drivers)[number]) => PlatformUnderTest][] = [
  ['slack', useSlack],
  ['teams', useTeams],
];

/** Plain text every platform shows as written (no Markdown, nothing a platform escapes). */
const paragraphs = (count: number, width: number) =>
  Array.from({ length: count }, (_, i) => `Paragraph ${i + 1}: ${'word '.repeat(Math.floor(width / 5)).trim()}.`).join('\n\n');
const words = (text: string) => text.replace(/\s+/g, ' ').trim();
/** A delivery outside the inbox: nothing shown before, nothing stored. */
const fresh = (): DeliveryMemory => deliveryMemoryOf();

describe.each(drivers)('platform ports contract (%s)', (driver) => {
  describe.each(platforms)('%s', (_name, use) => {
    const p = use(driver);
    const replies = () => p.ports().replies;

    describe('ReplySink', () => {
      it('posts a reply once, in the target’s thread, and answers the id of the message shown', async () => {
        const target = await p.target('thread');
        const { platformMessageId } = await replies().post(target, { kind: 'answer', text: 'contract answer one' }, fresh());
        expect(p.shown(target)).toEqual([{ id: platformMessageId, text: 'contract answer one', streaming: false }]);
      });

      it('shows progress in one status message that the answer then replaces', async () => {
        const target = await p.target('thread');
        const first = await replies().progress!(target, 'Planning…', fresh());
        await replies().progress!(target, 'Searching history…', fresh());
        expect(p.shown(target)).toHaveLength(1);
        const { platformMessageId } = await replies().post(target, { kind: 'answer', text: 'contract answer two' }, fresh());
        expect(p.shown(target)).toEqual([{ id: platformMessageId, text: 'contract answer two', streaming: false }]);
        if (first) expect(first.statusMessageId).toBe(platformMessageId);
      });

      it('splits a long reply below the platform’s limit, in order, losing nothing', async () => {
        const target = await p.target('thread');
        const text = paragraphs(12, Math.floor(p.maxChars / 4));
        await replies().post(target, { kind: 'answer', text }, fresh());
        const parts = p.shown(target).map((m) => m.text);
        expect(parts.length).toBeGreaterThan(1);
        for (const part of parts) expect(part.length).toBeLessThanOrEqual(p.maxChars);
        expect(words(parts.join(' '))).toBe(words(text));
      });

      it('a re-run of the same delivery updates the messages it showed and posts none again', async () => {
        const target = await p.target('thread');
        const text = paragraphs(8, Math.floor(p.maxChars / 3));
        const status = await replies().progress!(target, 'Planning…', fresh());
        let remembered: string[] = [];
        const first = await replies().post(target, { kind: 'answer', text }, { ...fresh(), rememberParts: async (ids) => void (remembered = ids) });
        const before = p.shown(target);
        expect(remembered.length).toBe(before.length - 1);
        // The worker crashed after posting: the next attempt knows what the first one stored.
        const again = await replies().post(target, { kind: 'answer', text }, {
          statusMessageId: status ? status.statusMessageId : first.platformMessageId,
          partMessageIds: remembered,
        });
        expect(again.platformMessageId).toBe(first.platformMessageId);
        expect(p.shown(target)).toEqual(before);
      });

      it('waits out a 429 with Retry-After and shows the reply once', async () => {
        const target = await p.target('thread');
        p.throttleNextPost();
        await replies().post(target, { kind: 'answer', text: 'contract after a throttle' }, fresh());
        expect(p.shown(target).map((m) => m.text)).toEqual(['contract after a throttle']);
        expect(p.postAttempts(target)).toBe(2);
      });
    });

    describe('ReplyStream', () => {
      it('shows the answer while written and ends on exactly the full text, in the message it said it started', async () => {
        const target = await p.target('stream');
        // As a turn does: progress first (on Teams it opens the 1:1 stream, so its id exists before any text).
        const status = await replies().progress!(target, 'Planning…', fresh());
        const started: { id: string; shownThen: string }[] = [];
        const stream = replies().openStream!(target, fresh(), async (id) => {
          started.push({ id, shownThen: p.shown(target).find((m) => m.id === id)?.text ?? '' });
        });
        expect(stream).not.toBeNull();
        const chunks = ['The launch ', 'moves to Friday. ', 'The docs freeze ', 'is on Thursday.'];
        for (const chunk of chunks) stream!.append(chunk);
        const { platformMessageId } = await stream!.finish(chunks.join(''));
        expect(started.map((s) => s.id)).toEqual([platformMessageId]);
        // Its id reached the caller before any of the answer showed in it (from progress, or from
        // started): a crash re-run replaces that message, never adds a second answer.
        const fromProgress = status ? status.statusMessageId === platformMessageId : false;
        expect(fromProgress || started[0]!.shownThen === '').toBe(true);
        expect(p.shown(target).filter((m) => m.text.includes('launch'))).toEqual([{ id: platformMessageId, text: chunks.join(''), streaming: false }]);
      });

      it('abort withdraws what was shown', async () => {
        const target = await p.target('stream');
        const stream = replies().openStream!(target, fresh())!;
        stream.append('A partial answer that will be withdrawn');
        await stream.abort();
        expect(p.shown(target).filter((m) => m.text.includes('partial answer'))).toEqual([]);
      });

      it('answers null where the platform cannot stream, and the reply is posted', async () => {
        const target = await p.target('flat');
        expect(replies().openStream!(target, fresh())).toBeNull();
        await replies().post(target, { kind: 'answer', text: 'contract flat answer' }, fresh());
        expect(p.shown(target).map((m) => m.text)).toEqual(['contract flat answer']);
      });
    });

    describe('MembershipSource and UserDirectory', () => {
      it('says who is in a channel, as the platform does', async () => {
        const { workspace, channel, member, outsider } = p.people;
        const membership = p.ports().membership;
        expect(await membership.isMember(workspace, channel, member.id)).toBe(true);
        expect(await membership.isMember(workspace, channel, outsider.id)).toBe(false);
      });

      it('looks people up with the platform’s role facts', async () => {
        const { workspace, member, guest } = p.people;
        const directory = p.ports().directory;
        expect(await directory.lookup(workspace, member)).toMatchObject({ platformRole: 'member', deleted: false });
        expect(await directory.lookup(workspace, guest)).toMatchObject({ platformRole: 'guest', deleted: false });
      });

      it('fails with DIRECTORY_UNAVAILABLE when the platform cannot say who someone is (never a guess)', async () => {
        const { user, restore } = p.directoryFailure();
        try {
          const err = await p.ports().directory.lookup(p.people.workspace, user).catch((e: unknown) => e);
          expect(isQuorumError(err, 'DIRECTORY_UNAVAILABLE')).toBe(true);
        } finally {
          restore();
        }
      });

      it('fails closed with MEMBERSHIP_UNAVAILABLE for a channel it cannot ask about', async () => {
        const { workspace, member } = p.people;
        const err = await p
          .ports()
          .membership.isMember(workspace, { id: p.name === 'slack' ? 'C0UNKNOWN01' : '19:unknown@thread.tacv2', kind: 'channel' }, member.id)
          .catch((e: unknown) => e);
        expect(isQuorumError(err, 'MEMBERSHIP_UNAVAILABLE')).toBe(true);
      });
    });

    it('history is absent where the platform cannot be read, else it reads the target’s thread, oldest first', async () => {
      const history = p.ports().history;
      expect(history === undefined).toBe(p.seedThread === null);
      if (!history || !p.seedThread) return;
      const target = await p.target('thread');
      const { member, guest } = p.people;
      p.seedThread(target, [
        { userId: member.id, text: 'contract root: should we ship?' },
        { userId: guest.id, text: 'contract reply: on Friday' },
      ]);
      const thread = await history.thread(target.workspace, target.channel, target.threadId!, 10);
      expect(thread.map((m) => [m.authorId, m.authorIsBot, m.text])).toEqual([
        [member.id, false, 'contract root: should we ship?'],
        [guest.id, false, 'contract reply: on Friday'],
      ]);
    });
  });
});
