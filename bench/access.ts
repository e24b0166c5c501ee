/**
 * Access-control figures: decide() with a warm membership cache at 10,000 channels × 50 members
 * per workspace (p50/p99 per decision), prompt building under the audience rule, the memory the
 * bounded membership cache takes at that size, and the 20,000-scenario isolation property run.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import type { webApi } from '@slack/bolt';
import { createMembership } from '../adapters/slack/people.js';
import { decide } from '../src/core/access/policy.js';
import { audienceFor, buildPrompt, type ContextItem } from '../src/core/prompt.js';
import type { AgentStore } from '../src/core/ports.js';
import type { CoreDeps } from '../src/core/turn.js';
import { createLogger } from '../src/log.js';
import { createMemoryStores } from '../test/fakes/memory-store.js';
import { RecordingModelGate, ScopedFakePlatform, runScenario, scenarioArb } from '../test/access/isolation-model.js';
import { print } from './_support.js';

const CHANNELS = 10_000;
const MEMBERS = 50;
const DECISIONS = 200_000;
const SCENARIOS = 20_000;

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const fmt = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;

export async function run(): Promise<void> {
  const ws = { platform: 'slack' as const, externalId: 'TBENCH' };
  // The Slack adapter's cache, as production uses it: each roster read once, then every check is a hit.
  let reads = 0;
  const roster = (channel: string) => {
    const c = Number(channel.slice(1));
    return Array.from({ length: MEMBERS }, (_, u) => `U${(c * 7 + u) % 20_000}`);
  };
  const client = { conversations: { members: async ({ channel }: { channel: string }) => (reads++, { ok: true, members: roster(channel) }) } };
  const tokens = { forWorkspace: async () => ({ token: 'xoxb-bench' }), forget() {} };
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const cache = createMembership({ client: client as unknown as webApi.WebClient, tokens, maxChannels: CHANNELS, ttlMs: 3_600_000 });
  for (let c = 0; c < CHANNELS; c++) await cache.isMember(ws, { id: `C${c}`, kind: 'channel' }, 'U0');
  gc();
  const cacheMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;

  const history: ContextItem[] = Array.from({ length: 20 }, (_, i) => ({
    visibility: { kind: 'channel', channelExternalId: 'C1' },
    message: { id: `m${i}`, conversationId: 'x', principalId: 'p', role: i % 2 ? 'assistant' : 'user', content: `message ${i} `.repeat(20), createdAt: new Date() },
  }));

  const decisionMs = new Float64Array(DECISIONS);
  const promptMs = new Float64Array(DECISIONS / 10);
  let allowed = 0;
  for (let i = 0; i < DECISIONS; i++) {
    const c = (i * 7919) % CHANNELS;
    const member = i % 3 !== 0;
    const user = member ? `U${(c * 7 + (i % MEMBERS)) % 20_000}` : `X${i}`;
    const t0 = performance.now();
    const hit = await cache.isMember(ws, { id: `C${c}`, kind: 'channel' }, user);
    const channel = { kind: 'channel' as const, workspaceId: 'w', channelKind: 'channel' as const, agentEnabled: true, guestsEnabled: true, isMember: hit };
    const subject = { principalId: user, role: 'member' as const, workspaceId: 'w' };
    const talk = decide(subject, { kind: 'talk' }, channel);
    const tool = decide(subject, { kind: 'use_tool', tool: 'search_history' }, channel);
    const read = decide(subject, { kind: 'read_history' }, { kind: 'conversation', workspaceId: 'w', conversationKind: 'channel', ownerPrincipalId: null, isMember: hit });
    decisionMs[i] = performance.now() - t0;
    if (talk.allow && tool.allow && read.allow) allowed++;
    if (i % 10 === 0) {
      const p0 = performance.now();
      buildPrompt({ audience: audienceFor('channel', `C${c}`, user), context: history, text: 'question' });
      promptMs[i / 10] = performance.now() - p0;
    }
  }
  decisionMs.sort();
  promptMs.sort();
  if (reads !== CHANNELS) throw new Error(`the warm cache read ${reads - CHANNELS} rosters again`);
  print(`access: Slack membership cache ${CHANNELS} channels × ${MEMBERS} members, heap ${cacheMb.toFixed(1)} MB`);
  print(
    `access: decision (cache lookup + talk + tool + history) p50 ${fmt(percentile(decisionMs, 0.5))}, p99 ${fmt(percentile(decisionMs, 0.99))}, max ${fmt(decisionMs[decisionMs.length - 1]!)} over ${DECISIONS} (${allowed} allowed)`,
  );
  print(`access: prompt build (20 history messages) p50 ${fmt(percentile(promptMs, 0.5))}, p99 ${fmt(percentile(promptMs, 0.99))}`);

  // The isolation property, 20,000 scenarios through runTurn (the agent path) on in-memory stores.
  const stores = createMemoryStores();
  const model = new RecordingModelGate();
  const platform = new ScopedFakePlatform();
  const deps: CoreDeps = {
    turns: stores.turns,
    audit: stores.audit,
    model,
    modelName: 'fake',
    platforms: { slack: platform },
    log: createLogger('silent'),
    agent: { store: noTools },
  };
  let scenarios = 0;
  let turns = 0;
  let checked = 0;
  const t0 = performance.now();
  await fc.assert(
    fc.asyncProperty(scenarioArb, async (s) => {
      const r = await runScenario(s, deps, model, platform, `b${scenarios++}`);
      turns += r.turns;
      checked += r.canariesChecked;
      // Keep memory flat: the recorder's history is only needed per turn.
      model.calls.length = 0;
      platform.posted.length = 0;
    }),
    { numRuns: SCENARIOS, seed: 42 },
  );
  print(
    `access: isolation property held for ${scenarios} scenarios (${turns} turns, ${checked} canaries checked) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();

/** The recording model answers without calling a tool, so the agent's store is never read here. */
const unused = async (): Promise<never> => {
  throw new Error('the isolation bench calls no tools');
};
const noTools: AgentStore = {
  searchMessages: unused,
  recentMessages: unused,
  channelsWithHistory: unused,
  toolRule: unused,
  remember: unused,
  recall: unused,
  usageToday: unused,
};
