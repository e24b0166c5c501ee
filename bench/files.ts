/**
 * File-reading figures: extractText on a text file, a CSV, a PDF and a Word document of a few
 * sizes (p50/p99 per file and MB/s), the CPU a turn spends before the model sees a file.
 */
import { extractText } from '../src/files/extract.js';
import { docxBytes, DOCX_TYPE, pdfBytes, utf8 } from '../test/support/files.js';
import { fmt, print, summarize } from './_support.js';

/** Timed reads per file: fewer for the large ones (a 1 MB Word document takes seconds). */
const runsFor = (bytes: Uint8Array) => (bytes.byteLength > 500_000 ? 5 : 30);

async function measure(label: string, name: string, mimetype: string, bytes: Uint8Array): Promise<void> {
  // One warm-up read (pdf.js and mammoth load lazily), then the timed ones.
  const first = await extractText({ name, mimetype, bytes });
  if (first.kind !== 'text') throw new Error(`${label}: not read (${first.kind === 'skipped' ? first.reason : first.kind})`);
  const samples: number[] = [];
  for (let i = 0; i < runsFor(bytes); i++) {
    const started = performance.now();
    await extractText({ name, mimetype, bytes });
    samples.push(performance.now() - started);
  }
  const s = summarize(samples);
  const mbPerSecond = bytes.byteLength / (1024 * 1024) / (s.mean / 1000);
  print(`${label.padEnd(26)} ${String(bytes.byteLength).padStart(9)} bytes  p50 ${fmt(s.p50)}  p99 ${fmt(s.p99)}  ${mbPerSecond.toFixed(1)} MB/s  (${first.text.length} characters)`);
}

export async function run(): Promise<void> {
  const line = 'The retry policy backs off exponentially, three attempts, jitter on; see the runbook. ';
  for (const kb of [10, 1_000]) {
    const text = line.repeat(Math.ceil((kb * 1024) / line.length));
    await measure(`text ${kb} KB`, 'notes.txt', 'text/plain', utf8(text));
    await measure(`CSV ${kb} KB`, 'rows.csv', 'text/csv', utf8(text.replace(/ /g, ',')));
    await measure(`DOCX ${kb} KB of text`, 'spec.docx', DOCX_TYPE, await docxBytes(text.replace(/\. /g, '.\n')));
  }
  // The test PDF holds one text line on one page: pdf.js's fixed cost per document.
  await measure('PDF one page', 'a.pdf', 'application/pdf', pdfBytes(line));
}
