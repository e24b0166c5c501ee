/** A scripted model for connected-tool tests: what the planner, the connected specialist and the aggregator answer. */
import type { ToolCall } from '../../src/core/ports.js';
import { answer, ScriptedAgentGate } from '../fakes/scripted-agent-model.js';

/** The model: the planner delegates to the connected specialist, which asks for `next` once; the aggregator repeats the results. */
export function toolScript(next: () => ToolCall | null) {
  return new ScriptedAgentGate((step, call, withResults) => {
    if (step === 'orchestrator') return call.tools && 'connected' in call.tools ? answer('', [{ id: 'p1', toolName: 'connected', input: { task: 'use the tool' } }]) : answer('no tools here');
    if (step === 'connected') {
      const wanted = next();
      if (withResults || !wanted) return answer(`report: ${call.messages.filter((m) => m.role === 'tool').map((m) => m.content).join(' | ')}`);
      return answer('', [{ id: 'c1', ...wanted }]);
    }
    return answer(`final: ${call.messages.filter((m) => m.role === 'tool').map((m) => m.content).join(' | ')}`);
  });
}

