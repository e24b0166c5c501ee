/**
 * One MCP client session with one server, through the official SDK: Streamable HTTP (falling
 * back to the older SSE transport when the server offers only that), stdio for the operator's
 * local servers, or in-process for the demo. Remote sessions go through the guarded fetch, so
 * every socket is checked once connected; redirects are refused (a redirect could lead elsewhere).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { DiscoveredTool } from '../core/ports.js';

/** How to reach a server. */
export type ServerSpec =
  | { transport: 'http'; url: string; headers: Record<string, string> }
  | { transport: 'stdio'; command: string; args: string[]; env: Record<string, string>; cwd?: string | undefined }
  /** The demo server, run in this process. */
  | { transport: 'memory'; connect(transport: Transport): Promise<void> };

export interface SessionOptions {
  fetch: typeof globalThis.fetch;
  /** Credentials of this session (workspace secret or the requester's own), on top of the spec's. */
  headers: Record<string, string>;
  timeoutMs: number;
  onToolsChanged(): void;
}

/** Bounds on discovery: a server cannot make Quorum page forever or keep thousands of tools. */
const MAX_PAGES = 20;
const MAX_TOOLS = 500;
const SETUP_MS = 20_000;

export async function openSession(spec: ServerSpec, options: SessionOptions): Promise<Client> {
  const client = new Client({ name: 'quorum', version: '1' });
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => options.onToolsChanged());
  // Starting a local server or a first TLS handshake may take longer than one call may.
  const setupMs = Math.max(options.timeoutMs, SETUP_MS);
  const connect = (transport: Transport) => client.connect(transport, { timeout: setupMs });
  switch (spec.transport) {
    case 'memory': {
      const [mine, theirs] = InMemoryTransport.createLinkedPair();
      await spec.connect(theirs);
      await connect(mine);
      return client;
    }
    case 'stdio':
      await connect(new StdioClientTransport({ command: spec.command, args: spec.args, env: { ...getDefaultEnvironment(), ...spec.env }, cwd: spec.cwd, stderr: 'ignore' }));
      return client;
    case 'http': {
      const url = new URL(spec.url);
      const requestInit: RequestInit = { headers: { ...spec.headers, ...options.headers }, redirect: 'error' };
      try {
        await connect(new StreamableHTTPClientTransport(url, { requestInit, fetch: options.fetch }));
        return client;
      } catch (err) {
        if (!offersOnlySse(err)) throw err;
      }
      // A new client: the first one's state is spent.
      const fallback = new Client({ name: 'quorum', version: '1' });
      fallback.setNotificationHandler(ToolListChangedNotificationSchema, () => options.onToolsChanged());
      await fallback.connect(new SSEClientTransport(url, { requestInit, fetch: options.fetch }), { timeout: setupMs });
      return fallback;
    }
  }
}

/** Streamable HTTP refused in the way an SSE-only server refuses it (4xx on the POST). */
function offersOnlySse(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && code >= 400 && code < 500 && code !== 401 && code !== 403;
}

/** `tools/list`, every page (bounded). */
export async function listAllTools(client: Client, timeoutMs: number): Promise<DiscoveredTool[]> {
  const tools: DiscoveredTool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await client.listTools(cursor ? { cursor } : {}, { timeout: timeoutMs });
    for (const t of result.tools) if (tools.length < MAX_TOOLS) tools.push(discovered(t));
    cursor = result.nextCursor;
    if (!cursor) break;
  }
  return tools;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

function discovered(t: Tool): DiscoveredTool {
  // A name outside MCP's character set is kept under a safe form; the call then fails cleanly.
  const name = TOOL_NAME.test(t.name) ? t.name : t.name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128) || 'tool';
  return {
    name,
    description: (t.description ?? t.title ?? '').slice(0, 1_000),
    inputSchema: t.inputSchema as Record<string, unknown>,
    readOnly: t.annotations?.readOnlyHint === true,
  };
}
