/**
 * A hostile model behind the real service (console entry point, throttling gate, AI SDK providers)
 * on the fake OpenAI-compatible and Anthropic servers: the requests the provider receives carry
 * tool calls and results in its own protocol (OpenAI `tool` messages with `tool_call_id`,
 * Anthropic `tool_use` / `tool_result` blocks), tied by id, and a tool's output never appears as
 * user text. Malformed calls (bad JSON, a tool not offered) are refused and audited; a response
 * with only tool calls still gives the user a readable answer; an unusable response is named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_TEXT_ANSWER } from '../../src/core/agent/orchestrator.js';
import { AGGREGATOR_INSTRUCTIONS, specialists } from '../../src/core/agent/specialists.js';
import { auditLog } from '../../src/db/schema.js';
import { UNUSABLE_MESSAGE } from '../../src/model/model-call.js';
import { FakeAnthropicServer } from '../fakes/anthropic-server.js';
import { FakeOpenAIServer, type Behaviour, type FakeRequest } from '../fakes/openai-server.js';
import { postJson, startTestApp, type TestApp } from '../support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from '../support/db.js';

type Body = FakeRequest['body'];
type Part = { type: string; text?: string; id?: string; tool_use_id?: string; content?: unknown };
type Message = { role: string; content: string | null | Part[]; tool_calls?: { id: string }[]; tool_call_id?: string };

/** One provider's wire format, read back from what the fake received. */
interface Wire {
  name: 'openai' | 'anthropic';
  server: () => FakeOpenAIServer | FakeAnthropicServer;
  system(body: Body): string;
  /** Ids of the tool calls the assistant messages carry, in order. */
  callIds(body: Body): string[];
  /** Tool results: the id each answers and its text. */
  results(body: Body): { id: string; text: string }[];
  /** The text of every user message (where a tool's output must never be). */
  userText(body: Body): string;
}

const messagesOf = (body: Body) => body.messages as unknown as Message[];
const partsOf = (m: Message): Part[] => (Array.isArray(m.content) ? m.content : []);
const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: Part) => p.text ?? '').join('') : '';

const openai: Wire = {
  name: 'openai',
  server: () => new FakeOpenAIServer(),
  system: (body) => messagesOf(body).filter((m) => m.role === 'system').map((m) => textOf(m.content)).join('\n'),
  callIds: (body) => messagesOf(body).flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []).map((c) => c.id) : [])),
  results: (body) => messagesOf(body).flatMap((m) => (m.role === 'tool' ? [{ id: m.tool_call_id ?? '', text: textOf(m.content) }] : [])),
  userText: (body) => messagesOf(body).filter((m) => m.role === 'user').map((m) => textOf(m.content)).join('\n'),
};

const anthropic: Wire = {
  name: 'anthropic',
  server: () => new FakeAnthropicServer(),
  system: (body) => textOf(body.system),
  callIds: (body) => messagesOf(body).flatMap((m) => (m.role === 'assistant' ? partsOf(m).filter((p) => p.type === 'tool_use').map((p) => p.id ?? '') : [])),
  results: (body) =>
    messagesOf(body).flatMap((m) =>
      m.role === 'user' ? partsOf(m).filter((p) => p.type === 'tool_result').map((p) => ({ id: p.tool_use_id ?? '', text: textOf(p.content) })) : [],
    ),
  userText: (body) =>
    messagesOf(body)
      .filter((m) => m.role === 'user')
      .map((m) => (typeof m.content === 'string' ? m.content : partsOf(m).filter((p) => p.type === 'text').map((p) => p.text ?? '').join('')))
      .filter(Boolean)
      .join('\n'),
};

const RESEARCHER = specialists.find((s) => s.name === 'researcher')!.instructions;
const call = (id: string, name: string, args: unknown) => ({ id, name, arguments: typeof args === 'string' ? args : JSON.stringify(args) });

function stepOf(wire: Wire, request: FakeRequest): 'aggregator' | 'researcher' | 'orchestrator' {
  const system = wire.system(request.body);
  if (system.includes(AGGREGATOR_INSTRUCTIONS)) return 'aggregator';
  if (system.includes(RESEARCHER)) return 'researcher';
  return 'orchestrator';
}

describe.each(drivers)('a hostile model through the service (%s)', (driver) => {
  describe.each([openai, anthropic])('on the $name wire format', (wire) => {
    const server = wire.server();
    let db: TestDatabase;
    let app: TestApp;

    beforeAll(async () => {
      await server.start();
      db = await openTestDatabase(driver);
      app = await startTestApp(db, {
        env: { MODEL_PROVIDER: wire.name, MODEL_BASE_URL: server.baseUrl, MODEL_API_KEY: 'sk-test-hostile', MODEL_TIMEOUT_MS: '10000' },
      });
    });
    afterAll(async () => {
      await app?.stop();
      await db?.close();
      await server.stop();
    });

    const ask = async (text: string) =>
      (await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text })).body.reply as { kind: string; text: string };

    it('sends tool calls and results as real tool messages with matching ids; refuses a bad call and a tool not offered', async () => {
      server.reset();
      server.script = (request): Behaviour => {
        const step = stepOf(wire, request);
        const hasResults = wire.results(request.body).length > 0;
        if (step === 'orchestrator') return { kind: 'answer', toolCalls: [call('call_plan_1', 'researcher', { task: 'search the launch' })] };
        if (step === 'researcher' && !hasResults)
          return {
            kind: 'answer',
            toolCalls: [
              call('call_s_1', 'search_history', { query: 'launch' }),
              call('call_s_2', 'drop_all_tables', { really: true }),
              call('call_s_3', 'search_history', '{"query": '),
            ],
          };
        if (step === 'researcher') return { kind: 'answer', text: 'research-done-canary' };
        return { kind: 'answer', text: 'final answer from the aggregator' };
      };
      const reply = await ask('what did we decide about the launch?');
      expect(reply).toMatchObject({ kind: 'answer', text: 'final answer from the aggregator' });

      const second = server.requests.find((r) => stepOf(wire, r) === 'researcher' && wire.results(r.body).length > 0)!;
      expect(wire.callIds(second.body)).toEqual(['call_s_1', 'call_s_2', 'call_s_3']);
      const results = wire.results(second.body);
      expect(results.map((r) => r.id)).toEqual(['call_s_1', 'call_s_2', 'call_s_3']);
      expect(results[1]!.text).toBe('drop_all_tables: no such tool is available.');
      expect(results[2]!.text).toBe('search_history: the input was not valid.');
      // What the tools returned is never the user's words.
      expect(wire.userText(second.body)).toBe('search the launch');

      const aggregator = server.requests.find((r) => stepOf(wire, r) === 'aggregator')!;
      expect(wire.callIds(aggregator.body)).toEqual(['call_plan_1']);
      expect(wire.results(aggregator.body)).toEqual([{ id: 'call_plan_1', text: 'research-done-canary' }]);
      expect(wire.userText(aggregator.body)).not.toContain('research-done-canary');
      // Tools are named on the aggregator's call (its prompt holds calls to them) but may not be used.
      expect(JSON.stringify(aggregator.body)).toMatch(wire.name === 'openai' ? /"tool_choice":"none"/ : /"tool_choice":\{"type":"none"\}/);

      const audit = await db.db.select().from(auditLog);
      const tools = audit.filter((a) => a.action === 'tool_call').map((a) => [a.outcome, (a.detail as { tool?: string }).tool, (a.detail as { reason?: string }).reason]);
      expect(tools).toEqual(
        expect.arrayContaining([
          ['ok', 'search_history', undefined],
          ['denied', 'drop_all_tables', 'unknown_tool'],
          ['error', 'search_history', 'invalid_input'],
        ]),
      );
    });

    it('a model that answers every step with tool calls only still gives the user a readable answer', async () => {
      server.reset();
      server.script = (request): Behaviour =>
        stepOf(wire, request) === 'orchestrator'
          ? { kind: 'answer', toolCalls: [call('call_x', 'not_a_specialist', { task: 'x' })] }
          : { kind: 'answer', toolCalls: [call('call_y', 'researcher', { task: 'again' })] };
      const reply = await ask('hello there');
      expect(reply).toEqual(expect.objectContaining({ kind: 'answer', text: NO_TEXT_ANSWER }));
      const aggregator = server.requests.find((r) => stepOf(wire, r) === 'aggregator')!;
      expect(wire.results(aggregator.body)).toEqual([{ id: 'call_x', text: 'not_a_specialist: no such tool is available.' }]);
    });

    it('a response it cannot read, or a refusal, is named as such, not as an unreachable model', async () => {
      server.reset();
      server.script = () => ({ kind: 'garbage', body: '{"this": "is not a completion"}' });
      expect(await ask('anything')).toEqual(expect.objectContaining({ kind: 'error', text: UNUSABLE_MESSAGE }));
      server.script = () => ({ kind: 'status', status: 401 });
      expect((await ask('anything else')).text).toMatch(/refused Quorum's credentials \(HTTP 401\)/);
      server.script = () => ({ kind: 'status', status: 400 });
      expect((await ask('and this')).text).toMatch(/refused this request \(HTTP 400\)/);
    });
  });
});
