/**
 * The operator's tools file (QUORUM_TOOLS_FILE): JSON, checked with zod at start-up. It declares
 * remote servers (url) and local stdio servers (command and arguments: only ever from here, never
 * from chat), for every workspace or the ones named, and may open tools with rules of its own. A
 * bad file stops the process with a message naming the bad entry; values are never echoed.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CONNECTION_NAME, TOOL_PATTERN } from '../core/access/connected-rules.js';
import { QuorumError } from '../core/errors.js';

const ruleSchema = z.strictObject({
  /** A channel's platform id, or '*' for the whole workspace. */
  channel: z.string().min(1).max(256),
  pattern: z.string().regex(TOOL_PATTERN, 'expected connection.tool, with * wildcards'),
  allowed: z.boolean().default(true),
  guests: z.boolean().default(false),
});

const common = {
  name: z.string().regex(CONNECTION_NAME, 'lower-case letters, digits and -, starting with a letter, at most 32'),
  /** platform:workspace ids (slack:T0123, teams:<tenant>, console:demo); absent: every workspace. */
  workspaces: z.array(z.string().regex(/^(slack|teams|console):[^:\s]+$/, 'expected platform:workspace')).optional(),
  auth: z.enum(['none', 'workspace', 'per-user']).default('none'),
  resultsShared: z.boolean().default(false),
  allow: z.array(ruleSchema).default([]),
};

const remoteSchema = z.strictObject({
  ...common,
  url: z.url().refine((u) => /^https?:/.test(u), 'must be http(s)'),
  /** Sent with every request (a workspace credential the operator keeps in this file). */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(4_000)).default({}),
});

const stdioSchema = z.strictObject({
  ...common,
  command: z.string().min(1).max(1_000),
  args: z.array(z.string().max(4_000)).max(100).default([]),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(4_000)).default({}),
  cwd: z.string().min(1).optional(),
});

export const toolsFileEntrySchema = z.union([remoteSchema, stdioSchema]);
export type ToolsFileEntry = z.infer<typeof toolsFileEntrySchema>;
export type RemoteEntry = z.infer<typeof remoteSchema>;
export type StdioEntry = z.infer<typeof stdioSchema>;

export function isStdio(entry: ToolsFileEntry): entry is StdioEntry {
  return 'command' in entry;
}

/** Which of the two shapes an entry was meant to be, for the message: a url names a remote server. */
function entryProblem(raw: unknown): string {
  const looksRemote = typeof raw === 'object' && raw !== null && 'url' in raw;
  const result = (looksRemote ? remoteSchema : stdioSchema).safeParse(raw);
  if (result.success) return 'invalid';
  return result.error.issues.map((i) => `${i.path.join('.') || '(entry)'}: ${i.message}`).join('; ');
}

/** Parses the file's text; throws TOOLS_FILE_INVALID naming the file and the bad entry. */
export function parseToolsFile(text: string, path: string): ToolsFileEntry[] {
  const fail = (why: string) => new QuorumError('TOOLS_FILE_INVALID', `QUORUM_TOOLS_FILE (${path}): ${why}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fail('not valid JSON');
  }
  const top = z.strictObject({ connections: z.array(z.unknown()).max(100) }).safeParse(json);
  if (!top.success) throw fail('expected {"connections": [ … ]}');
  const entries: ToolsFileEntry[] = [];
  const names = new Set<string>();
  top.data.connections.forEach((raw, i) => {
    const label = `connections[${i}]${typeof (raw as { name?: unknown })?.name === 'string' ? ` ("${String((raw as { name: string }).name).slice(0, 40)}")` : ''}`;
    const parsed = toolsFileEntrySchema.safeParse(raw);
    if (!parsed.success) throw fail(`${label}: ${entryProblem(raw)}`);
    if (names.has(parsed.data.name)) throw fail(`${label}: the name is used twice`);
    names.add(parsed.data.name);
    entries.push(parsed.data);
  });
  return entries;
}

export function loadToolsFile(path: string): ToolsFileEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new QuorumError('TOOLS_FILE_INVALID', `QUORUM_TOOLS_FILE (${path}): cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseToolsFile(text, path);
}
