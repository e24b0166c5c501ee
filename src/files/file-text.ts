/**
 * FileText for the knowledge index: a shared file fetched through its platform's FileSource where
 * it was shared (the platform is asked whether the bot may see it there before anything is
 * downloaded; a download stops at FILE_MAX_BYTES), then read by the extractor. What cannot be
 * read for good is `skipped` with a sentence a person can read; a platform that failed this time
 * is `failed` (tried again later).
 */
import type { Platform } from '../core/envelope.js';
import type { FileExtractor, FileSource, FileText } from '../core/ports.js';

export interface FileTextOptions {
  /** The platform's FileSource (adapters start after the index is made: asked at each read). */
  sourceFor(platform: Platform): FileSource | undefined;
  extractor: FileExtractor;
  /** FILE_MAX_BYTES. */
  maxBytes: number;
}

const sizeOf = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} bytes`;

export function createFileText(options: FileTextOptions): FileText {
  return {
    async read(where, file) {
      const source = options.sourceFor(where.workspace.platform);
      if (!source) return { kind: 'skipped', reason: 'files cannot be read on this platform' };
      const fetched = await source.fetch(where, { id: file.id, name: file.name, mimetype: file.mimetype ?? '', source: file.source ?? {} }, options.maxBytes);
      switch (fetched.kind) {
        case 'not_visible':
          return { kind: 'skipped', reason: 'Quorum cannot see this file (deleted, or not shared where Quorum is)' };
        case 'too_large':
          return { kind: 'skipped', reason: `it is larger than the ${sizeOf(options.maxBytes)} limit (FILE_MAX_BYTES)` };
        case 'failed':
          return { kind: 'failed', reason: fetched.reason };
        case 'ok': {
          const extracted = await options.extractor.extract({ bytes: fetched.bytes, name: fetched.name, mimetype: fetched.mimetype });
          if (extracted.kind === 'text') return { kind: 'text', text: extracted.text, bytes: fetched.bytes.byteLength };
          if (extracted.kind === 'image') return { kind: 'skipped', reason: 'it is a picture: only text is indexed' };
          return { kind: 'skipped', reason: extracted.reason };
        }
      }
    },
  };
}
