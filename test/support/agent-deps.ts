/** The core's dependencies for multi-step turns on a test database: real stores and audit, a fake model and platform. */
import type { ModelGate, PlatformPorts } from '../../src/core/ports.js';
import type { CoreDeps } from '../../src/core/turn.js';
import { createAgentStore } from '../../src/db/agent-store.js';
import { createAuditLog } from '../../src/db/audit-store.js';
import { createTurnStore } from '../../src/db/turn-store.js';
import { createLogger } from '../../src/log.js';
import type { TestDatabase } from './db.js';

export function agentDeps(db: TestDatabase, model: ModelGate, slack: PlatformPorts): CoreDeps {
  return {
    turns: createTurnStore(db.db),
    audit: createAuditLog(db.db),
    model,
    modelName: 'fake-model',
    platforms: { slack },
    log: createLogger('silent'),
    agent: { store: createAgentStore(db.db) },
  };
}
