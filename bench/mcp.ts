/**
 * The cost of governance on a connected tool call: the same read-only tool on the same local MCP
 * server (Streamable HTTP on 127.0.0.1), called N times through `callConnectedTool` (decide() on
 * fresh rules, credentials, rate/concurrency limits, breaker, pooled session, quoted and capped
 * output, the audit entry written) and N times with a bare SDK client, interleaved. Prints p50 and
 * p99 of both and the added latency (target: p50 ≤ 2 ms). PGlite, or PostgreSQL with DATABASE_URL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { callConnectedTool } from '../src/core/agent/connected-call.js';
import { startQuorum } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { FakeMcpServer } from '../test/fakes/mcp-server.js';
import { benchConfig, benchServices, fmt, print, summarize } from './_support.js';

const N = Number(process.env.MCP_CALLS ?? 500);
const WARMUP = 50;

export async function run(): Promise<void> {
  for (const db of benchServices.postgres ? ['pglite', 'postgres'] : ['pglite']) await once(db);
}

async function once(db: string): Promise<void> {
  const server = await new FakeMcpServer([{ name: 'lookup', readOnly: true }]).start();
  const probe = benchConfig('mcp');
  const file = join(probe.DATA_DIR, 'tools.json');
  writeFileSync(file, JSON.stringify({ connections: [{ name: 'srv', url: server.url, allow: [{ channel: '*', pattern: 'srv.*' }] }] }));
  const config = benchConfig('mcp', {
    QUORUM_TOOLS_FILE: file,
    TOOL_RPM: String(N * 10),
    ...(db === 'postgres' ? { DATABASE_URL: process.env.DATABASE_URL! } : {}),
  });
  const running = await startQuorum(config, { log: createLogger('silent') });
  const bare = new Client({ name: 'bench', version: '1' });
  try {
    await bare.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    const workspace = { platform: 'console' as const, externalId: 'bench' };
    const scope = await running.deps.turns.resolveWorkspace(workspace);
    const tools = running.deps.agent.connected!.tools;
    const [tool] = await tools.catalog(scope, workspace);
    if (!tool) throw new Error('the bench server listed no tool');
    const turn = {
      scope,
      principal: { id: '00000000-0000-4000-8000-000000000001', role: 'member' as const },
      envelope: { workspace, channel: { id: 'general', kind: 'channel' as const } },
      channel: { kind: 'channel' as const, channelKind: 'channel' as const, agentEnabled: true, guestsEnabled: true, isMember: true },
    };
    const deps = { tools, audit: running.deps.audit, log: running.deps.log };
    const governedMs: number[] = [];
    const bareMs: number[] = [];
    for (let i = 0; i < WARMUP + N; i++) {
      const input = { query: `q${i}` };
      let t = performance.now();
      await bare.callTool({ name: 'lookup', arguments: input });
      const b = performance.now() - t;
      t = performance.now();
      const text = await callConnectedTool(deps, turn, tool, input, { step: 'bench', confirmedByPrincipalId: null });
      const g = performance.now() - t;
      if (!text.includes('lookup ran with')) throw new Error(`governed call failed: ${text.slice(0, 200)}`);
      if (i >= WARMUP) [bareMs[i - WARMUP], governedMs[i - WARMUP]] = [b, g];
    }
    const sb = summarize(bareMs);
    const sg = summarize(governedMs);
    const added = summarize(governedMs.map((g, i) => g - bareMs[i]!));
    print(`${db}: ${N} calls each, interleaved, same server (Streamable HTTP, 127.0.0.1)`);
    print(`  bare SDK client.callTool      p50 ${fmt(sb.p50)}  p99 ${fmt(sb.p99)}`);
    print(`  governed callConnectedTool    p50 ${fmt(sg.p50)}  p99 ${fmt(sg.p99)}`);
    print(`  added (governed − bare)       p50 ${fmt(sg.p50 - sb.p50)}  p99 ${fmt(sg.p99 - sb.p99)}  (per-pair p50 ${fmt(added.p50)}, p99 ${fmt(added.p99)}; target p50 ≤ 2 ms)`);
  } finally {
    await bare.close();
    await running.stop();
    await server.stop();
  }
}
