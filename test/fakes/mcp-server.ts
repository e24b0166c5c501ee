/**
 * A real MCP server for tests, built from the SDK's server classes, over Streamable HTTP on
 * 127.0.0.1 (one transport per session, as a stateful server keeps them). Its tools are a list
 * the test sets (paged by `pageSize`); it records every call with the headers that came with it,
 * can be made slow or down, and can tell its clients that its tools changed.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';

export interface FakeTool {
  name: string;
  description?: string;
  readOnly?: boolean;
  run?: (args: Record<string, unknown>) => CallToolResult | Promise<CallToolResult>;
}

export interface RecordedToolCall {
  tool: string;
  args: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

export class FakeMcpServer {
  tools: FakeTool[] = [];
  pageSize = 100;
  readonly calls: RecordedToolCall[] = [];
  listRequests = 0;
  /** Every HTTP request that reached the server (MCP or not). */
  requests = 0;
  /** Every call waits this long before answering (a slow server). */
  delayMs = 0;
  /** Answers 503 to every request (a server that is down). */
  down = false;
  private http: HttpServer | null = null;
  private readonly sessions = new Map<string, { server: Server; transport: StreamableHTTPServerTransport }>();
  url = '';

  constructor(tools: FakeTool[] = []) {
    this.tools = tools;
  }

  private mcpServer(headersOf: () => IncomingMessage['headers']): Server {
    const server = new Server({ name: 'fake', version: '1' }, { capabilities: { tools: { listChanged: true } } });
    server.setRequestHandler(ListToolsRequestSchema, async (request) => {
      this.listRequests++;
      const start = Number(request.params?.cursor ?? 0);
      const page = this.tools.slice(start, start + this.pageSize).map(
        (t): Tool => ({
          name: t.name,
          description: t.description ?? `${t.name} tool`,
          inputSchema: { type: 'object', properties: { query: { type: 'string' } } },
          annotations: { readOnlyHint: t.readOnly ?? true },
        }),
      );
      const next = start + this.pageSize;
      return { tools: page, ...(next < this.tools.length ? { nextCursor: String(next) } : {}) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const args = (request.params.arguments ?? {}) as Record<string, unknown>;
      this.calls.push({ tool: request.params.name, args, headers: { ...headersOf() } });
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      const tool = this.tools.find((t) => t.name === request.params.name);
      if (!tool) return { isError: true, content: [{ type: 'text', text: 'no such tool' }] };
      return tool.run ? tool.run(args) : { content: [{ type: 'text', text: `${tool.name} ran with ${JSON.stringify(args)}` }] };
    });
    return server;
  }

  async start(): Promise<this> {
    this.http = createServer((req, res) => {
      this.requests++;
      if (this.down) {
        res.writeHead(503).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
        const id = req.headers['mcp-session-id'];
        let session = typeof id === 'string' ? this.sessions.get(id) : undefined;
        if (!session) {
          let current = req.headers;
          const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: (sid) => void this.sessions.set(sid, made),
          });
          const server = this.mcpServer(() => current);
          const made = { server, transport, setHeaders: (h: IncomingMessage['headers']) => (current = h) };
          session = made;
          void server.connect(transport).then(() => transport.handleRequest(req, res, body));
          return;
        }
        (session as { setHeaders?: (h: IncomingMessage['headers']) => void }).setHeaders?.(req.headers);
        void session.transport.handleRequest(req, res, body);
      });
    });
    await new Promise<void>((resolve) => this.http!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}/mcp`;
    return this;
  }

  /** Tells every connected client that the tool list changed. */
  async toolsChanged(): Promise<void> {
    for (const { server } of this.sessions.values()) await server.sendToolListChanged().catch(() => undefined);
  }

  callsOf(tool: string): RecordedToolCall[] {
    return this.calls.filter((c) => c.tool === tool);
  }

  async stop(): Promise<void> {
    for (const { transport } of this.sessions.values()) await transport.close().catch(() => undefined);
    this.http?.closeAllConnections();
    await new Promise((r) => (this.http ? this.http.close(r) : r(null)));
  }
}
