/**
 * Answers long enough to be split: `parts` paragraphs of about `chars` characters, each starting
 * `part k of <key>:`, so that a split below `2 × chars` shows one paragraph per message and a
 * test can count each part where users see it.
 */
export function longAnswer(key: string, parts: number, chars: number): string {
  return Array.from({ length: parts }, (_, i) => {
    const head = `part ${i + 1} of ${key}:`;
    return `${head}${' lorem'.repeat(Math.ceil((chars - head.length) / 6))}`;
  }).join('\n\n');
}

/** The part a message shows (`part k of <key>:`), or null. */
export function partOf(text: string): { part: number; key: string } | null {
  const m = /^part (\d+) of ([^:]+):/.exec(text);
  return m ? { part: Number(m[1]), key: m[2]! } : null;
}
