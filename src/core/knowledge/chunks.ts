/**
 * How a message or a file becomes chunks: pieces of about CHUNK_CHARS characters, cut at a
 * paragraph or sentence where one is near, overlapping a little so that a sentence cut in two
 * is still found whole in one of them. Bounded: a huge file yields at most MAX_CHUNKS.
 */
import type { ChunkInput, SharedFile, SourceMessage } from '../ports.js';

export const CHUNK_CHARS = 1_500;
const OVERLAP = 150;
export const MAX_CHUNKS = 200;

export function splitChunks(text: string): string[] {
  const clean = text.replace(/\r\n/g, '\n').trim();
  if (!clean) return [];
  const pieces: string[] = [];
  let start = 0;
  while (start < clean.length && pieces.length < MAX_CHUNKS) {
    let end = Math.min(clean.length, start + CHUNK_CHARS);
    if (end < clean.length) {
      // Prefer a paragraph, then a sentence, then a space in the last third of the piece.
      const window = clean.slice(start + Math.floor(CHUNK_CHARS * 0.66), end);
      const cut = Math.max(window.lastIndexOf('\n\n'), window.lastIndexOf('. '), window.lastIndexOf(' '));
      if (cut > 0) end = start + Math.floor(CHUNK_CHARS * 0.66) + cut + 1;
    }
    pieces.push(clean.slice(start, end).trim());
    if (end >= clean.length) break;
    start = Math.max(end - OVERLAP, start + 1);
  }
  return pieces.filter(Boolean);
}

/** A message's own chunks (its text); files are separate sources. */
export function messageChunks(message: SourceMessage, permalink: string | null): ChunkInput[] {
  return splitChunks(message.text).map((content, chunkNo) => ({
    sourceKind: 'message',
    sourceId: message.id,
    threadId: message.threadId,
    authorId: message.authorId,
    chunkNo,
    content,
    permalink,
    at: message.at,
  }));
}

/** A shared file: its name always (so it can be found by name), then its text when it could be read. */
export function fileChunks(file: SharedFile, text: string | null, message: Pick<SourceMessage, 'threadId' | 'authorId' | 'at'>, permalink: string | null): ChunkInput[] {
  const name = `File "${file.name}"`;
  const body = text?.trim() ? splitChunks(text) : [];
  const pieces = body.length ? body.map((b, i) => (i === 0 ? `${name}:\n${b}` : b)) : [`${name} (its text was not read)`];
  return pieces.map((content, chunkNo) => ({
    sourceKind: 'file',
    sourceId: file.id,
    threadId: message.threadId,
    authorId: message.authorId,
    chunkNo,
    content,
    permalink: file.permalink ?? permalink,
    at: message.at,
  }));
}
