/**
 * Bytes, a name and a declared type → text the model can read (or an image it can see), or a
 * clear reason why not. PDF through unpdf, DOCX through mammoth, text and code decoded as UTF-8.
 * The one entry point for anything that reads files: the turn (through the core's FileExtractor
 * port) and the knowledge index.
 */
import mammoth from 'mammoth';
import { extractText as pdfText, getDocumentProxy } from 'unpdf';
import type { ExtractedFile, FileExtractor, FileInput } from '../core/ports.js';
import { kindOf } from './kinds.js';
import { unpackedSize } from './zip-guard.js';

/** Text longer than this is cut here already (the prompt cuts far shorter): a bound on memory, not on what the model sees. */
export const MAX_EXTRACTED_CHARS = 2_000_000;
/** A DOCX whose parts would unpack to more than this is not opened. */
export const MAX_DOCX_UNPACKED_BYTES = 100 * 1024 * 1024;

/**
 * Reads one file. Never throws for a file it cannot read: a damaged PDF, a DOCX that is not
 * one, binary data called text, a type it does not know all come back as `skipped` with a reason
 * a person can read.
 */
export async function extractText(file: FileInput): Promise<ExtractedFile> {
  const kind = kindOf(file.name, file.mimetype, file.bytes);
  switch (kind.kind) {
    case 'image':
      return { kind: 'image', mediaType: kind.mediaType, data: file.bytes };
    case 'pdf':
      return readPdf(file.bytes);
    case 'docx':
      return readDocx(file.bytes);
    case 'text':
      return readText(file.bytes, kind.format);
    case 'unsupported':
      return { kind: 'skipped', reason: `${kind.what}: Quorum reads text, Markdown, CSV, JSON, code, PDF, Word (.docx) and images` };
  }
}

export const fileExtractor: FileExtractor = { extract: extractText };

async function readPdf(bytes: Uint8Array): Promise<ExtractedFile> {
  try {
    // pdf.js takes the buffer over: it gets a copy, so the caller's bytes stay usable.
    const { text } = await pdfText(await getDocumentProxy(new Uint8Array(bytes)), { mergePages: true });
    const clean = text.trim();
    if (!clean) return { kind: 'skipped', reason: 'the PDF has no text to read (a scan or only images)' };
    return { kind: 'text', text: cut(clean), format: 'pdf' };
  } catch {
    return { kind: 'skipped', reason: 'the PDF could not be read (damaged or password-protected)' };
  }
}

async function readDocx(bytes: Uint8Array): Promise<ExtractedFile> {
  const unpacked = unpackedSize(bytes);
  if (unpacked === null) return { kind: 'skipped', reason: 'the Word document could not be read (damaged)' };
  if (unpacked > MAX_DOCX_UNPACKED_BYTES) return { kind: 'skipped', reason: 'the Word document unpacks to more than Quorum reads' };
  try {
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    const clean = value.trim();
    if (!clean) return { kind: 'skipped', reason: 'the Word document has no text' };
    return { kind: 'text', text: cut(clean), format: 'docx' };
  } catch {
    return { kind: 'skipped', reason: 'the Word document could not be read (damaged or not a .docx)' };
  }
}

function readText(bytes: Uint8Array, format: string): ExtractedFile {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { kind: 'skipped', reason: 'it is not UTF-8 text' };
  }
  if (text.includes('\u0000')) return { kind: 'skipped', reason: 'it holds binary data, not text' };
  if (!text.trim()) return { kind: 'skipped', reason: 'it is empty' };
  return { kind: 'text', text: cut(text.replace(/^\uFEFF/, '')), format };
}

const cut = (text: string): string => (text.length > MAX_EXTRACTED_CHARS ? text.slice(0, MAX_EXTRACTED_CHARS) : text);
