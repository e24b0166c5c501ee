/**
 * What kind of file a name, a declared type and the first bytes make: the one place that decides
 * which reader a file gets. The bytes win over the declared type where they can tell (an image or
 * a PDF is recognised by its signature, whatever it is called).
 */
export type FileKind =
  | { kind: 'pdf' }
  | { kind: 'docx' }
  | { kind: 'image'; mediaType: string }
  | { kind: 'text'; format: string }
  | { kind: 'unsupported'; what: string };

/** Images every provider we speak takes as image input. */
const IMAGE_SIGNATURES: Array<{ mediaType: string; test: (b: Uint8Array) => boolean }> = [
  { mediaType: 'image/png', test: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { mediaType: 'image/jpeg', test: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { mediaType: 'image/gif', test: (b) => startsWith(b, [0x47, 0x49, 0x46, 0x38]) },
  { mediaType: 'image/webp', test: (b) => startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b.subarray(8), [0x57, 0x45, 0x42, 0x50]) },
];

const TEXT_FORMATS: Record<string, string> = {
  txt: 'text', text: 'text', log: 'text', md: 'markdown', markdown: 'markdown', csv: 'csv', tsv: 'csv', json: 'json',
  jsonl: 'json', yaml: 'yaml', yml: 'yaml', toml: 'toml', ini: 'text', xml: 'xml', html: 'html', htm: 'html', css: 'code',
};
const CODE_EXTENSIONS = new Set(
  'ts tsx js jsx mjs cjs py rb go rs java kt kts scala swift c h cc cpp hpp cs php sh bash zsh ps1 sql r lua pl pm ex exs erl hs clj dart vue svelte tf proto graphql gradle dockerfile makefile'.split(' '),
);
const TEXT_MIMETYPES: Record<string, string> = {
  'application/json': 'json', 'application/xml': 'xml', 'application/x-yaml': 'yaml', 'application/yaml': 'yaml', 'application/csv': 'csv',
  'application/javascript': 'code', 'application/typescript': 'code', 'application/x-sh': 'code', 'application/sql': 'code', 'application/toml': 'toml',
};
const DOCX_MIMETYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** `report.PDF` → `pdf`; a name without one is its own only for files known by name (Dockerfile, Makefile). */
export function extensionOf(name: string): string {
  const base = name.toLowerCase().split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  if (dot > 0) return base.slice(dot + 1);
  return base === 'dockerfile' || base === 'makefile' ? base : '';
}

export function kindOf(name: string, mimetype: string, bytes: Uint8Array): FileKind {
  const ext = extensionOf(name);
  const type = mimetype.toLowerCase().split(';')[0]!.trim();
  const image = IMAGE_SIGNATURES.find((s) => s.test(bytes));
  if (image) return { kind: 'image', mediaType: image.mediaType };
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46])) return { kind: 'pdf' };
  const zip = startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]);
  if (zip && (type === DOCX_MIMETYPE || ext === 'docx')) return { kind: 'docx' };
  if (type.startsWith('image/')) return { kind: 'unsupported', what: `an image in a format models do not take (${type})` };
  if (type === 'application/pdf' || ext === 'pdf') return { kind: 'unsupported', what: 'a file named as a PDF that is not one' };
  if (type === DOCX_MIMETYPE || ext === 'docx') return { kind: 'unsupported', what: 'a file named as a Word document that is not one' };
  if (zip) return { kind: 'unsupported', what: describe(type, ext) };
  const format = TEXT_FORMATS[ext] ?? (CODE_EXTENSIONS.has(ext) ? 'code' : undefined) ?? TEXT_MIMETYPES[type] ?? (type === 'text/csv' ? 'csv' : type === 'text/markdown' ? 'markdown' : undefined);
  if (format) return { kind: 'text', format };
  if (type.startsWith('text/')) return { kind: 'text', format: 'text' };
  return { kind: 'unsupported', what: describe(type, ext) };
}

function describe(type: string, ext: string): string {
  if (ext && ext !== type) return `a .${ext.slice(0, 20)} file${type ? ` (${type.slice(0, 80)})` : ''}`;
  return type ? `a file of type ${type.slice(0, 80)}` : 'a file of unknown type';
}

function startsWith(bytes: Uint8Array, signature: number[]): boolean {
  return bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b);
}
