/**
 * The grammar of connected tool servers (MCP): `/agent connect`, `/agent connections …` and
 * `/agent disconnect`, their schemas and help. grammar.ts puts them with the other commands.
 */
import { z } from 'zod';
import { connectionName, serverUrl } from './arguments.js';
import type { Rule } from './rule.js';

const auth = z.enum(['none', 'workspace', 'per-user']);

export const connectionCommandSchemas = [
  z.object({ name: z.literal('connect'), connection: z.string(), url: z.string(), auth }),
  z.object({
    name: z.literal('connections'),
    action: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('list') }),
      z.object({ kind: z.literal('refresh') }),
      /** Posts the button that opens the private dialog the workspace secret is pasted into. */
      z.object({ kind: z.literal('secret'), connection: z.string() }),
      /** Something followed the name: a secret typed into a message. It is dropped here and never kept. */
      z.object({ kind: z.literal('secret_typed') }),
      z.object({ kind: z.literal('results'), connection: z.string(), shared: z.boolean() }),
    ]),
  }),
  z.object({ name: z.literal('disconnect'), connection: z.string() }),
] as const;

type ConnectionCommand = z.infer<(typeof connectionCommandSchemas)[number]>;
type Of<N extends ConnectionCommand['name']> = Extract<ConnectionCommand, { name: N }>;
type Action = Of<'connections'>['action'];

const connections = (action: Action): Of<'connections'> => ({ name: 'connections', action });

export const connectionRules: { [N in ConnectionCommand['name']]: Rule<Of<N>> } = {
  connect: {
    forms: [{ usage: '/agent connect NAME URL [auth none|workspace|per-user]', summary: 'Connect an MCP server (remote, https) to this workspace', policy: 'connect' }],
    details:
      'Connects a remote MCP server (Streamable HTTP, or SSE where it offers only that) under NAME; its tools are named NAME.TOOL and stay off until allowed with /agent tools. ' +
      'auth: none (default), workspace (one secret for everyone, set with /agent connections secret NAME), per-user (each person links their own account). Example: /agent connect wiki https://wiki.example.com/mcp',
    args: z
      .union([z.tuple([connectionName, serverUrl]), z.tuple([connectionName, serverUrl, z.literal('auth'), auth])])
      .transform(([connection, url, , a]) => ({ name: 'connect' as const, connection, url, auth: a ?? 'none' })),
  },
  connections: {
    forms: [
      { usage: '/agent connections', summary: 'The connected tool servers of this workspace', policy: 'connections' },
      { usage: '/agent connections refresh', summary: 'List every connected server\'s tools again', policy: 'connections_refresh' },
      { usage: '/agent connections secret NAME', summary: 'Set a connection\'s workspace secret, in a private dialog (never in a message)', policy: 'connections_secret' },
      { usage: '/agent connections NAME results shared|private', summary: 'Whether a per-user connection\'s results may be used in channels', policy: 'connections_results' },
    ],
    details:
      'Lists the MCP servers connected to this workspace, their tools and when they were last listed; refresh asks every server for its tools again. ' +
      'secret NAME sends you, privately, a button that opens a dialog for the secret of a connection with auth workspace: it is stored encrypted and never read from a message. ' +
      'A per-user connection\'s results are the requester\'s own, so its tools are offered only in their DM; results shared also offers them in channels and group chats, where everyone there reads what they return. ' +
      'Examples: /agent connections refresh · /agent connections secret wiki · /agent connections tickets results shared',
    args: z.union([
      z.tuple([]).transform(() => connections({ kind: 'list' })),
      z.tuple([z.literal('refresh')]).transform(() => connections({ kind: 'refresh' })),
      z.tuple([z.literal('secret'), connectionName]).transform(([, connection]) => connections({ kind: 'secret', connection })),
      // Checked before any other form, so that a typed secret is never taken for something else.
      z
        .array(z.string())
        .min(3)
        .refine((words) => words[0] === 'secret')
        .transform(() => connections({ kind: 'secret_typed' })),
      z
        .tuple([connectionName, z.literal('results'), z.enum(['shared', 'private'])])
        .transform(([connection, , how]) => connections({ kind: 'results', connection, shared: how === 'shared' })),
    ]),
  },
  disconnect: {
    forms: [{ usage: '/agent disconnect NAME', summary: 'Remove a connected tool server from this workspace', policy: 'disconnect' }],
    details: 'Removes a connection added in chat; its tools are gone at once. Connections the operator declared cannot be removed from chat. Example: /agent disconnect wiki',
    args: z.tuple([connectionName]).transform(([connection]) => ({ name: 'disconnect' as const, connection })),
  },
};
