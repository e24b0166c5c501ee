/**
 * Prometheus metrics (prom-client) at GET /metrics. Label values stay bounded: platform,
 * outcome, reason, model, never user ids; workspace ids only on the token and cost counters, and
 * only when the operator turns them on (METRICS_WORKSPACE_LABELS).
 */
import client from 'prom-client';
import type { Intake } from '../core/intake.js';
import type { AuditLog, ModelGate } from '../core/ports.js';
import type { Route } from './server.js';

export interface InboxDepthSource {
  depth(): Promise<{ pending: number; oldestPendingAgeMs: number | null }>;
}

export interface MetricsOptions {
  /** METRICS_WORKSPACE_LABELS: tokens and cost also by workspace (one series per workspace and model). */
  workspaceLabels?: boolean;
}

/** Model calls, tokens and cost; tokens and cost by workspace too when the operator allows it. */
function modelCounters(registry: client.Registry, byWorkspace: boolean) {
  const modelCalls = new client.Counter({
    name: 'quorum_model_calls_total',
    help: 'Model calls by model and outcome (answer, budget, unavailable, timeout).',
    labelNames: ['model', 'outcome'] as const,
    registers: [registry],
  });
  const modelTokens = new client.Counter({
    name: 'quorum_model_tokens_total',
    help: `Tokens used, by model${byWorkspace ? ', workspace' : ''} and direction.`,
    labelNames: byWorkspace ? (['model', 'direction', 'workspace'] as const) : (['model', 'direction'] as const),
    registers: [registry],
  });
  const modelCost = new client.Counter({
    name: 'quorum_model_cost_usd_total',
    help: `Cost of model calls in US dollars (MODEL_PRICES), by model${byWorkspace ? ' and workspace' : ''}.`,
    labelNames: byWorkspace ? (['model', 'workspace'] as const) : (['model'] as const),
    registers: [registry],
  });
  return { modelCalls, modelTokens, modelCost, byWorkspace };
}

export function createMetrics(inbox: InboxDepthSource, options: MetricsOptions = {}) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'quorum_' });

  const intake = new client.Counter({
    name: 'quorum_intake_total',
    help: 'Deliveries received from the platforms, by outcome (accepted, duplicate, ignored, invalid, refused, error).',
    labelNames: ['platform', 'outcome'] as const,
    registers: [registry],
  });
  const turnSeconds = new client.Histogram({
    name: 'quorum_turn_duration_seconds',
    help: 'Time a worker spent on one turn, by outcome.',
    labelNames: ['platform', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const { modelCalls, modelTokens, modelCost, byWorkspace } = modelCounters(registry, options.workspaceLabels === true);
  const denials = new client.Counter({
    name: 'quorum_denials_total',
    help: 'Access denials by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const limiterQueue = new client.Gauge({
    name: 'quorum_limiter_queue_length',
    help: 'Model calls waiting in the limiters of this instance.',
    registers: [registry],
  });
  const limiterWait = new client.Histogram({
    name: 'quorum_limiter_wait_seconds',
    help: 'Time a model call waited in the limiters before it ran.',
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const depthCache = { at: 0, value: { pending: 0, oldestPendingAgeMs: null as number | null } };
  const readDepth = async () => {
    // One query serves both gauges of a scrape.
    if (Date.now() - depthCache.at > 1_000) {
      depthCache.value = await inbox.depth().catch(() => depthCache.value);
      depthCache.at = Date.now();
    }
    return depthCache.value;
  };
  new client.Gauge({
    name: 'quorum_inbox_depth',
    help: 'Inbox rows pending or being worked on (all instances).',
    registers: [registry],
    async collect() {
      this.set((await readDepth()).pending);
    },
  });
  new client.Gauge({
    name: 'quorum_inbox_oldest_pending_age_seconds',
    help: 'Age of the oldest inbox row not yet done.',
    registers: [registry],
    async collect() {
      this.set(((await readDepth()).oldestPendingAgeMs ?? 0) / 1000);
    },
  });

  const route: Route = {
    method: 'GET',
    path: '/metrics',
    handler: async (_req, res) => {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(body);
    },
  };

  return { registry, route, intake, turnSeconds, modelCalls, modelTokens, modelCost, byWorkspace, denials, limiterQueue, limiterWait };
}

export type Metrics = ReturnType<typeof createMetrics>;

// ---------------------------------------------------------------- instrumented ports
// The core stays free of prom-client: main.ts wraps its ports with these.

export function instrumentIntake(intake: Intake, metrics: Metrics): Intake {
  return {
    async submit(input) {
      const platform = (input as { workspace?: { platform?: string } } | null)?.workspace?.platform;
      const label = platform === 'slack' || platform === 'teams' || platform === 'console' ? platform : 'unknown';
      try {
        const result = await intake.submit(input);
        metrics.intake.inc({ platform: label, outcome: result.status });
        return result;
      } catch (err) {
        metrics.intake.inc({ platform: label, outcome: 'error' });
        throw err;
      }
    },
  };
}

/** Micro-USD of a call's usage: the gate's own pricing (src/model/pricing.ts), handed in by main.ts. */
export type CostOf = (model: string, inputTokens: number, outputTokens: number) => number;

export function instrumentModelGate(gate: ModelGate, metrics: Metrics, costOf: CostOf = () => 0): ModelGate {
  return {
    async generate(call) {
      const outcome = await gate.generate(call);
      const model = outcome.model ?? 'unknown';
      metrics.modelCalls.inc({ model, outcome: outcome.kind === 'answer' ? 'answer' : outcome.reason });
      if (outcome.kind === 'answer') {
        // The workspace label only where the operator allows it (METRICS_WORKSPACE_LABELS).
        const ws = metrics.byWorkspace ? { workspace: call.scope.workspaceId } : {};
        const { inputTokens, outputTokens } = outcome.usage;
        metrics.modelTokens.inc({ model, direction: 'input', ...ws }, inputTokens);
        metrics.modelTokens.inc({ model, direction: 'output', ...ws }, outputTokens);
        metrics.modelCost.inc({ model, ...ws }, costOf(model, inputTokens, outputTokens) / 1_000_000);
      }
      return outcome;
    },
  };
}

export function instrumentAuditLog(audit: AuditLog, metrics: Metrics): AuditLog {
  return {
    ...audit,
    async append(scope, entry) {
      await audit.append(scope, entry);
      if (entry.action === 'denial') metrics.denials.inc({ reason: String(entry.detail?.reason ?? 'unknown') });
    },
  };
}
