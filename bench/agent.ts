/**
 * A three-specialist turn with a fake model that answers every call in 300 ms, through the
 * whole pipeline (intake → inbox → worker → orchestrator → specialists → aggregator → reply).
 * The researcher makes one tool round (two calls), the other two specialists one call each, so:
 *   longest path = orchestrator + researcher (2 calls) + aggregator = 4 × 300 ms = 1200 ms
 *   sum of calls = 6 × 300 ms = 1800 ms
 * Parallel specialists should bring the end-to-end latency close to the longest path.
 * Answers stream (the one-call answer and the aggregator's): their text comes in 10 pieces over
 * the call's 300 ms, so the reply starts showing about 270 ms before the answer is complete.
 */
import { rmSync } from 'node:fs';
import { AGGREGATOR_INSTRUCTIONS, specialists } from '../src/core/agent/specialists.js';
import type { EnvelopeInput } from '../src/core/envelope.js';
import type { ModelCall, ModelGate, ModelOutcome, ToolCall } from '../src/core/ports.js';
import { startQuorum } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { benchConfig, fmt, print, replyWaiter, summarize } from './_support.js';

const CALL_MS = 300;
const TURNS = 8;

function answer(text: string, toolCalls?: ToolCall[]): ModelOutcome {
  return { kind: 'answer', text, model: 'bench-fake', usage: { inputTokens: 50, outputTokens: 20 }, latencyMs: CALL_MS, ...(toolCalls ? { toolCalls } : {}) };
}

const PIECES = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers like a model that plans three specialists; every call takes CALL_MS, streamed answers in PIECES steps. */
const fakeGate: ModelGate = {
  async generate(call: ModelCall): Promise<ModelOutcome> {
    const outcome = script(call);
    if (!call.onTextDelta || outcome.kind !== 'answer' || outcome.toolCalls) {
      await sleep(CALL_MS);
      return outcome;
    }
    const words = outcome.text.split(/(?<= )/);
    for (let i = 0; i < PIECES; i++) {
      await sleep(CALL_MS / PIECES);
      call.onTextDelta(words.slice(Math.floor((i * words.length) / PIECES), Math.floor(((i + 1) * words.length) / PIECES)).join(''));
    }
    return outcome;
  },
};

function script(call: ModelCall): ModelOutcome {
  const system = call.messages[0]?.content ?? '';
  const withResults = call.messages.at(-1)?.role === 'tool';
  if (call.messages.some((m) => m.role === 'system' && m.content === AGGREGATOR_INSTRUCTIONS))
    return answer('Here is the announcement: v2 ships on Friday, the docs freeze is on Thursday, and your status is fine.');
  if (call.tools && 'researcher' in call.tools && call.messages.at(-1)?.content === 'hello')
    return answer('Hello back! Ask me about a thread, your notes or your status, or for a draft.'); // the one-call path
  if (call.tools && 'researcher' in call.tools)
    return answer('', [
      { toolName: 'researcher', input: { task: 'search launch decisions' } },
      { toolName: 'status', input: { task: 'my status' } },
      { toolName: 'writer', input: { task: 'draft the announcement' } },
    ]);
  const specialist = specialists.find((s) => s.instructions === system)?.name;
  if (specialist === 'researcher' && !withResults) return answer('', [{ toolName: 'search_history', input: { query: 'launch' } }]);
  return answer(`${specialist} done`);
}

export async function run(): Promise<void> {
  const { ports, replied: repliedTo, firstText } = replyWaiter({ stream: true });
  const config = benchConfig('agent', process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {});
  const app = await startQuorum(config, { log: createLogger('silent'), model: fakeGate, platforms: { slack: ports } });
  try {
    const firsts: { simple: number[]; multi: number[] } = { simple: [], multi: [] };
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
      const shown = firstText(key);
      if (shown !== undefined) firsts[text === 'hello' ? 'simple' : 'multi'].push(shown - t0);
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
    print(`three-specialist turn, fake model ${CALL_MS} ms/call, ${TURNS} turns (${app.database.driver})`);
    print(`  end-to-end      p50 ${fmt(s.p50)}  mean ${fmt(s.mean)}  max ${fmt(Math.max(...latencies))}`);
    print(`  longest path    ${fmt(longest)}  (orchestrator + researcher's 2 calls + aggregator)`);
    print(`  sum of calls    ${fmt(sum)}  (what running the steps one after another would take)`);
    print(`  one-call turn   p50 ${fmt(one.p50)}  (1 × ${CALL_MS} ms: pipeline overhead p50 ${fmt(one.p50 - CALL_MS)})`);
    print(`  overhead vs longest path p50 ${fmt(s.p50 - longest)}; saved vs sum p50 ${fmt(sum - s.p50)}`);
    const firstSimple = summarize(firsts.simple);
    const firstMulti = summarize(firsts.multi);
    print(`  streamed answer: first text p50 ${fmt(firstSimple.p50)} vs full ${fmt(one.p50)} (one-call); ${fmt(firstMulti.p50)} vs full ${fmt(s.p50)} (three-specialist)`);
  } finally {
    await app.stop();
    rmSync(config.DATA_DIR, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
