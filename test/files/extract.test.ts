/**
 * extractText, the one reader of files (the turn and the knowledge index use it): what it reads
 * as text, what it hands on as a picture, and the clear reason for everything else. Real bytes:
 * a PDF and a DOCX made here, and one whose directory claims a huge part (never unpacked).
 */
import { describe, expect, it } from 'vitest';
import { extractText } from '../../src/files/extract.js';
import { docxBytes, DOCX_TYPE, pdfBytes, PNG_BYTES, utf8 } from '../support/files.js';

const text = async (name: string, mimetype: string, bytes: Uint8Array) => extractText({ name, mimetype, bytes });

describe('extractText', () => {
  it('reads text, Markdown, CSV, JSON and code by name or type', async () => {
    expect(await text('notes.md', 'text/plain', utf8('# Title\nbody'))).toEqual({ kind: 'text', text: '# Title\nbody', format: 'markdown' });
    expect(await text('rows.csv', '', utf8('a,b\n1,2'))).toMatchObject({ kind: 'text', format: 'csv' });
    expect(await text('data', 'application/json', utf8('{"a":1}'))).toMatchObject({ kind: 'text', format: 'json' });
    expect(await text('main.go', 'application/octet-stream', utf8('package main'))).toMatchObject({ kind: 'text', format: 'code' });
    expect(await text('Dockerfile', '', utf8('FROM node:20'))).toMatchObject({ kind: 'text', format: 'code' });
    expect(await text('readme', 'text/plain; charset=utf-8', utf8('\uFEFFhello'))).toEqual({ kind: 'text', text: 'hello', format: 'text' });
  });

  it('reads a PDF and a Word document, by their bytes', async () => {
    expect(await text('a.pdf', 'application/pdf', pdfBytes('canary (pdf) line'))).toEqual({ kind: 'text', text: 'canary (pdf) line', format: 'pdf' });
    // Misnamed: the signature decides.
    expect(await text('scan.bin', '', pdfBytes('still a pdf'))).toMatchObject({ kind: 'text', text: 'still a pdf' });
    expect(await text('a.docx', DOCX_TYPE, await docxBytes('first\nsecond'))).toEqual({ kind: 'text', text: 'first\n\nsecond', format: 'docx' });
  });

  it('hands pictures on by their signature, whatever they are called', async () => {
    const result = await text('photo.txt', 'text/plain', PNG_BYTES);
    expect(result).toEqual({ kind: 'image', mediaType: 'image/png', data: PNG_BYTES });
  });

  it('says why for what it cannot read', async () => {
    const reason = async (name: string, mimetype: string, bytes: Uint8Array) => {
      const r = await text(name, mimetype, bytes);
      return r.kind === 'skipped' ? r.reason : `read as ${r.kind}`;
    };
    expect(await reason('latin1.txt', 'text/plain', new Uint8Array([0x63, 0x61, 0x66, 0xe9]))).toBe('it is not UTF-8 text');
    expect(await reason('nul.txt', 'text/plain', utf8('a\u0000b'))).toBe('it holds binary data, not text');
    expect(await reason('empty.md', 'text/markdown', utf8('  \n'))).toBe('it is empty');
    expect(await reason('fake.pdf', 'application/pdf', utf8('hello'))).toMatch(/^a file named as a PDF that is not one: Quorum reads/);
    expect(await reason('fake.docx', DOCX_TYPE, utf8('hello'))).toMatch(/^a file named as a Word document that is not one/);
    expect(await reason('photo.heic', 'image/heic', new Uint8Array([0, 0, 0, 0x18]))).toMatch(/^an image in a format models do not take \(image\/heic\)/);
    expect(await reason('archive.zip', 'application/zip', await docxBytes('x'))).toMatch(/^a \.zip file \(application\/zip\)/);
    expect(await reason('blob', '', new Uint8Array([1, 2, 3]))).toMatch(/^a file of unknown type/);
  });

  it('refuses a Word document that would unpack to more than it reads, without unpacking it', async () => {
    // A small document whose directory says its part unpacks to 200 MB (what a zip bomb's says).
    const bomb = await docxBytes('small');
    const view = new DataView(bomb.buffer, bomb.byteOffset, bomb.byteLength);
    for (let at = 0; at + 4 <= bomb.byteLength; at++) if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, 200 * 1024 * 1024, true);
    expect(await text('bomb.docx', DOCX_TYPE, bomb)).toEqual({ kind: 'skipped', reason: 'the Word document unpacks to more than Quorum reads' });
    const damaged = bomb.slice(0, bomb.byteLength - 30);
    expect(await text('cut.docx', DOCX_TYPE, damaged)).toEqual({ kind: 'skipped', reason: 'the Word document could not be read (damaged)' });
  });
});
