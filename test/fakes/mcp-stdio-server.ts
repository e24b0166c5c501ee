/** A real MCP server over stdio (the SDK's McpServer and StdioServerTransport), started by tests as an operator's local server. */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'stdio-fake', version: '1' });
server.registerTool('echo', { description: 'Echo the words back.', inputSchema: { query: z.string() }, annotations: { readOnlyHint: true } }, async ({ query }) => ({
  content: [{ type: 'text', text: `stdio echo: ${query} (pid ${process.pid})` }],
}));
await server.connect(new StdioServerTransport());
