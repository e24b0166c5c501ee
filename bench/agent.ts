/**
 * A three-specialist turn with a fake model that answers every call in 300 ms, through the
 * whole pipeline (intake → inbox → worker → orchestrator → specialists → aggregator → reply).
 * The researcher makes one tool round (two calls), the other two specialists one call each, so:
 *   longest path = orchestrator + researcher (2 calls) + aggregator = 4 × 300 ms = 1200 ms
 *   sum of calls = 6 × 300 ms = 1800 ms
 * Parallel specialists should bring the end-to-end latency close to the longest path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { RESULTS_MARKER } from '../src/core/agent/markers.js';
import { AGGREGATOR_INSTRUCTIONS, specialists } from '../src/core/agent/specialists.js';
import type { EnvelopeInput } from '../src/core/envelope.js';
import type { ModelCall, ModelGate, ModelOutcome, ToolCall } from '../src/core/ports.js';
import { startQuorum } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { fmt, replyWaiter, summarize } from './_support.js';

const CALL_MS = 300;
const TURNS = 8;

function answer(text: string, toolCalls?: ToolCall[]): ModelOutcome {
  return { kind: 'answer', text, model: 'bench-fake', usage: { inputTokens: 50, outputTokens: 20 }, latencyMs: CALL_MS, ...(toolCalls ? { toolCalls } : {}) };
}

/** Answers like a model that plans three specialists; every call takes CALL_MS. */
const fakeGate: ModelGate = {
  async generate(call: ModelCall): Promise<ModelOutcome> {
    await new Promise((r) => setTimeout(r, CALL_MS));
    const system = call.messages[0]?.content ?? '';
    const withResults = (call.messages.at(-1)?.content ?? '').startsWith(RESULTS_MARKER);
    if (call.tools && 'researcher' in call.tools && call.messages.at(-1)?.content === 'hello')
      return answer('hello back'); // the one-call path
    if (call.tools && 'researcher' in call.tools)
      return answer('', [
        { toolName: 'researcher', input: { task: 'search launch decisions' } },
        { toolName: 'status', input: { task: 'my status' } },
        { toolName: 'writer', input: { task: 'draft the announcement' } },
      ]);
    if (system === AGGREGATOR_INSTRUCTIONS) return answer('Here is the announcement.');
    const specialist = specialists.find((s) => s.instructions === system)?.name;
    if (specialist === 'researcher' && !withResults) return answer('', [{ toolName: 'search_history', input: { query: 'launch' } }]);
    return answer(`${specialist} done`);
  },
};

export async function run(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'quorum-bench-agent-'));
  const { ports, replied: repliedTo } = replyWaiter();
  const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir, ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}) });
  const app = await startQuorum(config, { log: createLogger('silent'), model: fakeGate, platforms: { slack: ports } });
  try {
    const turn = async (i: number, text: string): Promise<number> => {
      const key = `bench-agent-${i}-${Math.random().toString(36).slice(2)}`;
      const envelope: EnvelopeInput = {
        kind: 'mention',
        idempotencyKey: key,
        workspace: { platform: 'slack', externalId: 'T-BENCH-AGENT' },
        user: { id: 'U-BENCH' },
        channel: { id: 'C-LAUNCH', kind: 'channel' },
        messageId: key,
        text,
        receivedAt: new Date(),
      };
      const replied = repliedTo(key);
      const t0 = performance.now();
      await app.intake.submit(envelope);
      await replied;
      return performance.now() - t0;
    };
    const simple: number[] = [];
    const latencies: number[] = [];
    for (let i = 0; i < TURNS; i++) simple.push(await turn(i, 'hello'));
    for (let i = 0; i < TURNS; i++) latencies.push(await turn(TURNS + i, 'summarize what #launch decided, check my status and draft the announcement'));
    const one = summarize(simple);
    const s = summarize(latencies);
    const longest = 4 * CALL_MS;
    const sum = 6 * CALL_MS;
    console.log(`three-specialist turn, fake model ${CALL_MS} ms/call, ${TURNS} turns (${app.database.driver})`);
    console.log(`  end-to-end      p50 ${fmt(s.p50)}  mean ${fmt(s.mean)}  max ${fmt(Math.max(...latencies))}`);
    console.log(`  longest path    ${fmt(longest)}  (orchestrator + researcher's 2 calls + aggregator)`);
    console.log(`  sum of calls    ${fmt(sum)}  (what running the steps one after another would take)`);
    console.log(`  one-call turn   p50 ${fmt(one.p50)}  (1 × ${CALL_MS} ms: pipeline overhead p50 ${fmt(one.p50 - CALL_MS)})`);
    console.log(`  overhead vs longest path p50 ${fmt(s.p50 - longest)}; saved vs sum p50 ${fmt(sum - s.p50)}`);
  } finally {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
