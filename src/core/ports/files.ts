/** What a turn does with a file's bytes: implemented by src/files (text extraction), used by the turn and the knowledge index. */

/** A file's content as the model can take it, or why it cannot. */
export type ExtractedFile =
  | { kind: 'text'; text: string; format: string }
  | { kind: 'image'; mediaType: string; data: Uint8Array }
  | { kind: 'skipped'; reason: string };

export interface FileInput {
  bytes: Uint8Array;
  name: string;
  mimetype: string;
}

/** Turns bytes into text (or an image). Never throws for a file it cannot read: it says why. */
export interface FileExtractor {
  extract(file: FileInput): Promise<ExtractedFile>;
}
