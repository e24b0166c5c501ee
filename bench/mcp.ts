/**
 * The cost of governance on a connected tool call: the same read-only tool on the same local MCP
 * server (Streamable HTTP on 127.0.0.1), called N times through `callConnectedTool` (decide() on
 * the cached rules, credentials, rate/concurrency limits, breaker, pooled session, quoted and
 * capped output, the audit entry) and N times with a bare SDK client, interleaved. A read-only
 * call's audit entry is written while the model reads its result and the turn waits for it before
 * answering: the bench awaits that write right after each call and prints what that wait costs
 * too (an upper bound: in a turn it overlaps the next model call). It also runs the call with its
 * audit awaited before the result returns (what actions and confirmed calls do). Prints p50 and
 * p99 and the added latency (target p50 ≤ 2 ms). PGlite, or PostgreSQL with DATABASE_URL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { callConnectedTool } from '../src/core/agent/connected-call.js';
import { PendingAudits } from '../src/core/agent/pending-audits.js';
import { startQuorum } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { FakeMcpServer } from '../test/fakes/mcp-server.js';
import { benchConfig, benchServices, fmt, print, summarize } from './_support.js';

const N = Number(process.env.MCP_CALLS ?? 500);
const WARMUP = 50;
const BURST = 8;
const BURSTS = 50;

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
    const audits = new PendingAudits();
    const bareMs: number[] = [];
    const governedMs: number[] = [];
    const flushMs: number[] = [];
    const syncMs: number[] = [];
    const governed = async (input: Record<string, unknown>, deferred: boolean) => {
      const text = await callConnectedTool(deps, deferred ? { ...turn, audits } : turn, tool, input, { step: 'bench', confirmedByPrincipalId: null });
      if (!text.includes('lookup ran with')) throw new Error(`governed call failed: ${text.slice(0, 200)}`);
    };
    const timed = async (work: () => Promise<unknown>) => {
      const t = performance.now();
      await work();
      return performance.now() - t;
    };
    for (let i = 0; i < WARMUP + N; i++) {
      const input = { query: `q${i}` };
      const sample = { b: 0, g: 0, f: 0, sy: 0 };
      const units = [
        async () => void (sample.b = await timed(() => bare.callTool({ name: 'lookup', arguments: input }))),
        async () => {
          sample.g = await timed(() => governed(input, true));
          sample.f = await timed(() => audits.flush());
        },
        async () => void (sample.sy = await timed(() => governed(input, false))),
      ];
      // Rotated, so that no kind of call always follows another (a commit's after-effects land on each alike).
      for (let k = 0; k < units.length; k++) await units[(i + k) % units.length]!();
      if (i >= WARMUP) [bareMs[i - WARMUP], governedMs[i - WARMUP], flushMs[i - WARMUP], syncMs[i - WARMUP]] = [sample.b, sample.g, sample.f, sample.sy];
    }
    report(db, { bareMs, governedMs, flushMs, syncMs });
    // One model response asking for several read-only calls at once: their audit writes arrive together and share one commit.
    const burstCalls: number[] = [];
    const burstFlush: number[] = [];
    for (let r = 0; r < BURSTS; r++) {
      burstCalls.push(await timed(() => Promise.all(Array.from({ length: BURST }, (_, k) => governed({ query: `burst${r}-${k}` }, true)))));
      burstFlush.push(await timed(() => audits.flush()));
    }
    const [bc, bf] = [summarize(burstCalls), summarize(burstFlush)];
    print(`  ${BURST} parallel read-only calls            p50 ${fmt(bc.p50)}  p99 ${fmt(bc.p99)}; their audits awaited after: p50 ${fmt(bf.p50)}  p99 ${fmt(bf.p99)} (${BURSTS} rounds)`);
  } finally {
    await bare.close();
    await running.stop();
    await server.stop();
  }
}

function report(db: string, { bareMs, governedMs, flushMs, syncMs }: Record<'bareMs' | 'governedMs' | 'flushMs' | 'syncMs', number[]>): void {
  const sb = summarize(bareMs);
  const sg = summarize(governedMs);
  const sf = summarize(flushMs);
  const sw = summarize(governedMs.map((g, i) => g + flushMs[i]!));
  const ss = summarize(syncMs);
  const added = summarize(governedMs.map((g, i) => g - bareMs[i]!));
  print(`${db}: ${N} calls each, interleaved (order rotated), same server (Streamable HTTP, 127.0.0.1)`);
  print(`  bare SDK client.callTool               p50 ${fmt(sb.p50)}  p99 ${fmt(sb.p99)}`);
  print(`  governed, read-only (audit deferred)   p50 ${fmt(sg.p50)}  p99 ${fmt(sg.p99)}`);
  print(`  added (governed − bare)                p50 ${fmt(sg.p50 - sb.p50)}  p99 ${fmt(sg.p99 - sb.p99)}  (per-pair p50 ${fmt(added.p50)}, p99 ${fmt(added.p99)}; target p50 ≤ 2 ms)`);
  print(`  deferred audit, awaited right after    p50 ${fmt(sf.p50)}  p99 ${fmt(sf.p99)}  (the turn waits at most this once, before its answer)`);
  print(`  call + its audit awaited at once       p50 ${fmt(sw.p50)}  p99 ${fmt(sw.p99)}  (the worst case for a one-call turn)`);
  print(`  governed, audit before the result      p50 ${fmt(ss.p50)}  p99 ${fmt(ss.p99)}  (actions, confirmed calls; added p50 ${fmt(ss.p50 - sb.p50)})`);
}
