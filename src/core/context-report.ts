/**
 * What a turn gave the model and what it left out, with the rule that left each thing out: the
 * record behind the local console's "why did it see this?" view (PlatformPorts.inspect). It is
 * made only where an adapter asks for it, and making it changes nothing the turn does.
 */
import { denyExplanation, type DenyReason } from './access/policy.js';
import type { AuditEntryInput, AuditLog, PlatformPorts, ReplyTarget } from './ports.js';
import { selectContext, SYSTEM_PROMPT, type Audience, type ContextItem } from './prompt.js';

/** The rule behind a decision, as a user would name it. */
export type ContextRule = 'audience' | 'membership' | 'tool_rule' | 'role' | 'access' | 'failed';

export interface ContextEntry {
  source: 'instructions' | 'message' | 'note' | 'tool_result' | 'request';
  given: boolean;
  /** Who wrote it ('user', 'assistant'), or the tool's name. */
  label: string;
  /** Only for what was given (the requester may read it); what was left out never carries its text. */
  text?: string;
  at?: Date;
  /** Only for what was left out: the rule, and the one sentence that explains it. */
  rule?: ContextRule;
  reason?: string;
}

export interface ContextReport {
  audience: Audience;
  outcome: 'answered' | 'denied' | 'refused';
  /** At most this many earlier messages of the conversation are read; older ones never reach the model. */
  historyLimit: number;
  entries: ContextEntry[];
}

const RULES: Partial<Record<DenyReason, ContextRule>> = {
  not_a_member: 'membership',
  membership_unknown: 'membership',
  not_yours: 'audience',
  tool_needs_dm: 'audience',
  tool_off_here: 'tool_rule',
  tool_role: 'role',
};
/** Reasons the agent records for a tool call that are not access decisions. */
const TOOL_FAILURES: Record<string, { rule: ContextRule; reason: string }> = {
  unknown_tool: { rule: 'tool_rule', reason: 'That tool is not offered here.' },
  invalid_input: { rule: 'failed', reason: 'The model asked with input that was not valid.' },
  failed: { rule: 'failed', reason: 'The tool failed, so it had no result to give.' },
};
const PERSONAL_TOOLS = new Set(['recall', 'remember']);

function leftOut(reason: string): Pick<ContextEntry, 'rule' | 'reason'> {
  if (reason in denyExplanation) return { rule: RULES[reason as DenyReason] ?? 'access', reason: denyExplanation[reason as DenyReason] };
  return TOOL_FAILURES[reason] ?? { rule: 'failed', reason: 'The tool gave no result.' };
}

export interface ContextRecorder {
  /** The conversation's history as the turn read it; `unreadable` when the requester may not read it. */
  context(items: ContextItem[], request: string, unreadable?: { count: number; reason: DenyReason }): void;
  /** Passes every entry on unchanged, noting the agent's tool calls (given or refused, and why). */
  watch(audit: AuditLog): AuditLog;
  /** Tells the adapter, once; the whole request left out when the turn was denied. */
  send(outcome: ContextReport['outcome'], denied?: DenyReason): void;
}

/** null unless the platform's adapter asks for the record (only the console does). */
export function recordContext(ports: PlatformPorts, target: ReplyTarget, audience: Audience, historyLimit: number): ContextRecorder | null {
  const inspect = ports.inspect?.bind(ports);
  if (!inspect) return null;
  const history: ContextEntry[] = [];
  const tools: ContextEntry[] = [];
  let request: ContextEntry | null = null;
  let sent = false;
  const noteTool = (entry: AuditEntryInput) => {
    const tool = typeof entry.detail?.tool === 'string' ? entry.detail.tool : 'a tool';
    const source = PERSONAL_TOOLS.has(tool) ? 'note' : 'tool_result';
    const reason = typeof entry.detail?.reason === 'string' ? entry.detail.reason : 'failed';
    tools.push(entry.outcome === 'ok' ? { source, given: true, label: tool } : { source, given: false, label: tool, ...leftOut(reason) });
  };
  return {
    context(items, text, unreadable) {
      const { given, leftOut: hidden } = selectContext(audience, items);
      const entry = (item: ContextItem, isGiven: boolean): ContextEntry => ({
        source: item.visibility.kind === 'memory' ? 'note' : 'message',
        given: isGiven,
        label: item.message.role,
        at: item.message.createdAt,
        ...(isGiven ? { text: item.message.content } : { rule: 'audience', reason: 'Not everyone who reads this reply may see it.' }),
      });
      history.push(...given.map((i) => entry(i, true)), ...hidden.map((i) => entry(i, false)));
      // Unread history is counted, never shown: the requester may not read it.
      if (unreadable && unreadable.count > 0)
        history.push({ source: 'message', given: false, label: `${unreadable.count} earlier messages`, ...leftOut(unreadable.reason) });
      request = { source: 'request', given: true, label: 'user', text };
    },
    watch(audit) {
      return {
        list: (scope, filter) => audit.list(scope, filter),
        append(scope, entry) {
          if (entry.action === 'tool_call') noteTool(entry);
          return audit.append(scope, entry);
        },
      };
    },
    send(outcome, denied) {
      if (sent) return;
      sent = true;
      const instructions: ContextEntry = { source: 'instructions', given: true, label: 'system', text: SYSTEM_PROMPT };
      const entries = denied
        ? [{ source: 'request', given: false, label: 'user', ...leftOut(denied) } satisfies ContextEntry]
        : [instructions, ...history, ...tools, ...(request ? [request] : [])];
      try {
        inspect(target, { audience, outcome, historyLimit, entries });
      } catch {
        // A development view: it never changes what the turn does.
      }
    },
  };
}
