/**
 * The one neutralizing step for outgoing text: mass mentions, user groups, Teams `<at>` tags and
 * disguised links made harmless; ordinary links and text untouched; and a stream cut anywhere
 * shows exactly what the whole text neutralized shows (property test over random cuts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { namesAnotherAddress, neutralizeText, stableLength } from '../src/core/outgoing-text.js';
import { StreamBuffer } from '../src/core/stream-buffer.js';
import { harmful, HOSTILE } from './support/hostile-text.js';

const WJ = '\u2060';

describe('neutralizeText', () => {
  it('makes every mass mention, group mention, <at> tag and disguised link harmless, keeping the real address visible', () => {
    expect(harmful(HOSTILE).length).toBeGreaterThan(5); // the control: the detector sees them
    const safe = neutralizeText(HOSTILE);
    expect(harmful(safe)).toEqual([]);
    for (const real of ['https://evil.example.net/phish', 'https://evil.example.net/x', 'https://evil.example.net/a', 'https://evil.example.net/b']) {
      expect(safe).toContain(real);
    }
    expect(safe).toContain(`@${WJ}channel and @${WJ}here and @${WJ}everyone`);
    expect(safe).toContain('ping @engineering and @group');
    expect(safe).toContain(`Hi ${WJ}Bo${WJ}!`);
  });

  it('leaves ordinary Markdown, honest links and other text alone, and is idempotent', () => {
    const honest =
      '**Bold**, *italic*, ***both***, `a < b`, [the docs](https://docs.example.com/x), [https://docs.example.com](https://docs.example.com/y), ' +
      '<https://docs.example.com|https://docs.example.com/z>, mail ana@example.com, <@U0ACMEMEM1>.\n\n| a | b |\n|---|---|\n| 1 | 2 |';
    expect(neutralizeText(honest)).toBe(honest);
    expect(neutralizeText(neutralizeText(HOSTILE))).toBe(neutralizeText(HOSTILE));
  });

  it('names a link disguised only when its text reads as another host', () => {
    expect(namesAnotherAddress('click here', 'https://evil.example.net')).toBe(false);
    expect(namesAnotherAddress('www.example.com', 'https://example.com/a')).toBe(false);
    expect(namesAnotherAddress('see bank.example.org now', 'https://evil.example.net')).toBe(true);
  });

  it('a stream cut at any points shows what the whole text neutralized shows', async () => {
    const alphabet = ['<!here>', '<!channel|c>', '@here', '@', 'here', '[', ']', '(', ')', 'https://good.example.com', 'https://evil.example.net', '<', '>', '|', '<at>', '</at>', ' ', '\n', 'word', '!'];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }), fc.array(fc.nat({ max: 60 }), { maxLength: 8 }), async (tokens, cuts) => {
        const text = tokens.join('');
        const sent: string[] = [];
        // maxChars 1: every push is sent as soon as it may be, so the cuts are the pushes'.
        const buffer = new StreamBuffer(async (chunk) => void sent.push(chunk), { intervalMs: 0, maxChars: 1 });
        let at = 0;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          const to = Math.min(cut, text.length);
          if (to > at) buffer.push(text.slice(at, to));
          at = Math.max(at, to);
          await new Promise((r) => setImmediate(r));
        }
        buffer.push(text.slice(at));
        await buffer.drain();
        expect(sent.join('')).toBe(neutralizeText(text));
      }),
      { numRuns: 1_000 },
    );
  });

  it('holds back only what could still become a mention or a link', () => {
    expect(stableLength('plain words ')).toBe(12);
    expect(stableLength('see <!he')).toBe(4);
    expect(stableLength('see [https://a.example](https://b')).toBe(4);
    expect(stableLength('see [x] and more')).toBe(16);
    expect(stableLength('hey @he')).toBe(4);
    expect(stableLength('line one [open\nline two')).toBe(23);
  });
});

describe('Markdown tables for Teams (which renders no tables in text messages)', () => {
  it('turns a pipe table into an aligned preformatted block, and leaves code fences and other text alone', async () => {
    const { tablesAsText } = await import('../adapters/teams/markdown.js');
    const text = 'Before.\n\n| Name | Role |\n|---|:---:|\n| Ana | owner |\n| Bo \\| B. | member |\n\nAfter.\n\n```\n| a | b |\n|---|---|\n```';
    expect(tablesAsText(text)).toBe(
      'Before.\n\n```\nName    | Role\n--------|-------\nAna     | owner\nBo | B. | member\n```\n\nAfter.\n\n```\n| a | b |\n|---|---|\n```',
    );
    expect(tablesAsText('a | b without a separator')).toBe('a | b without a separator');
  });
});
