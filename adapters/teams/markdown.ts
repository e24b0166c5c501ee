/**
 * Markdown as Teams renders it. Teams shows Markdown in text messages but not tables ("Text-only
 * messages don't support table formatting"): a model's pipe table would arrive as raw pipes. A
 * table (a header row, a `---` separator row, its body rows; outside code fences) becomes a
 * preformatted block with its columns aligned, which every Teams client shows as a table reads.
 * Everything else is left to Teams.
 */

const FENCE = /^\s*(```|~~~)/;
const SEPARATOR = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

function isRow(line: string): boolean {
  return line.includes('|') && line.trim().length > 1;
}

/** A row's cells: outer pipes dropped, split on pipes not escaped, trimmed, escapes undone. */
function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

function aligned(rows: string[][]): string[] {
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) =>
    widths
      .map((w, i) => {
        const cell = r[i] ?? '';
        return cell + ' '.repeat(w - [...cell].length);
      })
      .join(' | ')
      .trimEnd();
  const [header, ...body] = rows;
  return ['```', line(header!), widths.map((w) => '-'.repeat(Math.max(w, 1))).join('-|-'), ...body.map(line), '```'];
}

/** The text with each Markdown table turned into an aligned preformatted block. */
export function tablesAsText(markdown: string): string {
  const lines = markdown.split('\n');
  const out: string[] = [];
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (FENCE.test(line)) inFence = !inFence;
    if (!inFence && isRow(line) && SEPARATOR.test(lines[i + 1] ?? '') && !FENCE.test(line)) {
      const rows = [cells(line)];
      let j = i + 2;
      while (j < lines.length && isRow(lines[j]!) && !FENCE.test(lines[j]!)) rows.push(cells(lines[j++]!));
      out.push(...aligned(rows));
      i = j - 1;
      continue;
    }
    out.push(line);
  }
  return out.join('\n');
}
