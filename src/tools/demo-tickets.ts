/**
 * The demo's tool server: a small MCP server (the SDK's McpServer) over a JSON file of tickets in
 * DATA_DIR, with one read tool (`search`, annotated read-only) and one action (`create`), so the
 * console shows a connected tool call, and a confirmation, with the offline model.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';

const ticketSchema = z.object({ id: z.number().int(), title: z.string(), status: z.enum(['open', 'closed']), createdAt: z.string() });
type Ticket = z.infer<typeof ticketSchema>;

const SEED: Ticket[] = [
  { id: 1, title: 'Login page times out on slow networks', status: 'open', createdAt: '2026-01-05T09:00:00Z' },
  { id: 2, title: 'Export to CSV drops the last row', status: 'open', createdAt: '2026-01-12T14:30:00Z' },
  { id: 3, title: 'Roadmap page: broken link to Q3 plan', status: 'closed', createdAt: '2026-02-02T11:15:00Z' },
];

function read(file: string): Ticket[] {
  if (!existsSync(file)) return [...SEED];
  const parsed = z.array(ticketSchema).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : [...SEED];
}

export function createTicketsServer(dataDir: string): McpServer {
  const file = join(dataDir, 'demo-tickets.json');
  const server = new McpServer({ name: 'quorum-demo-tickets', version: '1' });
  server.registerTool(
    'search',
    {
      description: 'Search the demo tickets by words in their title.',
      inputSchema: { query: z.string().max(200) },
      annotations: { readOnlyHint: true },
    },
    async ({ query }) => {
      const words = query.toLowerCase().split(/\W+/).filter((w) => w.length > 2 && !['search', 'tickets', 'ticket', 'for', 'the'].includes(w));
      const found = read(file).filter((t) => words.length === 0 || words.some((w) => t.title.toLowerCase().includes(w)));
      const text = found.length ? found.map((t) => `#${t.id} [${t.status}] ${t.title}`).join('\n') : 'No tickets match.';
      return { content: [{ type: 'text', text }] };
    },
  );
  server.registerTool(
    'create',
    {
      description: 'Create a demo ticket with a title.',
      inputSchema: { title: z.string().min(1).max(200) },
      annotations: { readOnlyHint: false },
    },
    async ({ title }) => {
      const tickets = read(file);
      const ticket: Ticket = { id: Math.max(0, ...tickets.map((t) => t.id)) + 1, title, status: 'open', createdAt: new Date().toISOString() };
      writeFileSync(file, JSON.stringify([...tickets, ticket], null, 2), { mode: 0o600 });
      return { content: [{ type: 'text', text: `Created ticket #${ticket.id}: ${title}` }] };
    },
  );
  return server;
}

/** The demo server as a connection's in-process spec: a fresh server per session. */
export function ticketsSpec(dataDir: string): { transport: 'memory'; connect(transport: Transport): Promise<void> } {
  return { transport: 'memory', connect: (transport) => createTicketsServer(dataDir).connect(transport) };
}
