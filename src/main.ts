/**
 * Composition root: the only place that wires config, database, model, core, workers,
 * adapters and the HTTP server together. `npm start` runs `main()`; tests call `startQuorum()`.
 */
import { pathToFileURL } from 'node:url';
import { createConsoleAdapter } from '../adapters/console/index.js';
import { loadDemo, type Demo } from '../adapters/console/demo.js';
import type { SlackAdapter } from '../adapters/slack/index.js';
import type { TeamsAuthOverrides } from '../adapters/teams/index.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { Envelope } from './core/envelope.js';
import { createBudgetAlerts } from './core/alerts.js';
import { isQuorumError } from './core/errors.js';
import { createIntake, type Intake } from './core/intake.js';
import type { Logger, ModelGate } from './core/ports.js';
import { answerCommand, portsFor, queuedNotice, replyTargetOf, runTurn, type CoreDeps } from './core/turn.js';
import { createAgentStore } from './db/agent-store.js';
import { createAuditLog } from './db/audit-store.js';
import { createConversationRefStore } from './db/conversation-ref-store.js';
import { createAdminStore } from './db/admin-store.js';
import { startSweeper } from './db/sweeper.js';
import { openDatabase, type Database, type OpenOptions } from './db/client.js';
import { withBatchedEnqueue } from './db/inbox-batch.js';
import { createInboxStore } from './db/inbox-store.js';
import { createInstallationStore } from './db/installation-store.js';
import { createTurnStore, createWorkspaceCache } from './db/turn-store.js';
import { createMetrics, instrumentAuditLog, type Metrics, instrumentIntake, instrumentModelGate } from './http/metrics.js';
import { createHttpServer, healthRoutes, type ReadinessCheck, type Route } from './http/server.js';
import { createWorker, type Worker } from './inbox/worker.js';
import { createLogger } from './log.js';
import { createUsageLedger } from './db/usage-ledger.js';
import { createGateFromConfig } from './model/from-config.js';
import { modelNameFor } from './model/providers.js';
import { createSecretBox, loadEncryptionKey } from './secrets.js';

export interface StartOptions {
  /** Replace the configured gate (tests use a recording fake). */
  model?: ModelGate;
  /** An already open embedded database (tests start from a migrated snapshot). */
  pglite?: OpenOptions['pglite'];
  log?: Logger;
  demo?: Demo;
  /** Extra platform ports (tests plug in fakes). */
  platforms?: Partial<CoreDeps['platforms']>;
  /** Teams: OpenID metadata URLs and outbound credentials (tests verify real tokens offline). */
  teams?: TeamsAuthOverrides & { maxReplyChars?: number };
}

export interface RunningQuorum {
  port: number;
  database: Database;
  intake: Intake;
  worker: Worker;
  deps: CoreDeps;
  metrics: Metrics;
  /** Stop intake, finish or release claimed work, close the database. */
  stop(): Promise<void>;
}

const DEAD_LETTER_MESSAGE = 'Sorry, I could not answer that request after several tries. Please ask again in a few minutes.';

export async function startQuorum(config: Config, options: StartOptions = {}): Promise<RunningQuorum> {
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, pglite: options.pglite, poolSize: config.DATABASE_POOL_SIZE });
  let gate: ReturnType<typeof createGateFromConfig> | null = null;
  try {
    const secrets = createSecretBox(loadEncryptionKey({ key: config.QUORUM_ENCRYPTION_KEY, dataDir: config.DATA_DIR, log }));
    const workspaces = createWorkspaceCache(database.db);
    const inbox = withBatchedEnqueue(database.db, createInboxStore(database.db, workspaces), workspaces);
    const metrics = createMetrics(inbox);
    const turns = createTurnStore(database.db, workspaces);
    const audit = instrumentAuditLog(createAuditLog(database.db), metrics);
    const admin = createAdminStore(database.db);
    const platforms: CoreDeps['platforms'] = { ...options.platforms };
    // The one gate every model call passes: limits, budgets, retries, breakers, fallback.
    gate = options.model
      ? null
      : createGateFromConfig(config, {
          turns,
          ledger: createUsageLedger(database.db),
          audit,
          // At 80% of a daily budget the workspace's admins get a direct message.
          alerts: createBudgetAlerts({ admin, platforms, bootstrapAdmins: config.QUORUM_ADMINS, log }),
          log,
          observer: { queueLength: (n) => metrics.limiterQueue.set(n), waited: (s) => metrics.limiterWait.observe(s) },
        });
    const model: ModelGate = options.model ?? gate!;
    const redisCheck = gate?.redisCheck ?? null;

    const deps: CoreDeps = {
      turns,
      audit,
      model: instrumentModelGate(model, metrics),
      modelName: modelNameFor(config),
      platforms,
      log,
      agent: { store: createAgentStore(database.db) },
      admin,
      bootstrapAdmins: config.QUORUM_ADMINS,
    };

    const worker = createWorker({
      inbox,
      runTurn: async (envelope, attempt) => {
        const stopTimer = metrics.turnSeconds.startTimer({ platform: envelope.workspace.platform });
        try {
          const result = await runTurn(deps, envelope, attempt);
          stopTimer({ outcome: 'ok' });
          return result;
        } catch (err) {
          stopTimer({ outcome: 'error' });
          throw err;
        }
      },
      notifyDead: (envelope, statusMessageId) => notifyDead(deps, envelope, statusMessageId),
      notifyQueued: (envelope, position) => notifyQueued(deps, envelope, position),
      perWorkspace: config.WORKSPACE_CONCURRENCY,
      // A workspace that removed the app: its queued turns can never be answered.
      isPermanent: (err) => isQuorumError(err, 'UNKNOWN_WORKSPACE'),
      log,
      concurrency: config.WORKER_CONCURRENCY,
      leaseMs: config.INBOX_LEASE_MS,
      turnTimeoutMs: config.TURN_TIMEOUT_MS,
      maxAttempts: config.INBOX_MAX_ATTEMPTS,
    });
    const intake = instrumentIntake(createIntake(inbox, () => worker.wake()), metrics);

    const routes: Route[] = [];
    if (config.NODE_ENV !== 'production') {
      const consoleAdapter = createConsoleAdapter({ demo: options.demo ?? loadDemo(), intake });
      platforms.console ??= consoleAdapter.ports;
      routes.push(...consoleAdapter.routes);
    }

    let slack: SlackAdapter | null = null;
    // Platform SDKs are loaded only for the platforms in use: Bolt alone is tens of MB of heap.
    const slackModule = usesSlack(config) ? await import('../adapters/slack/index.js') : null;
    if (slackModule?.slackConfigured(config)) {
      slack = slackModule.createSlackAdapter({
        config,
        intake,
        answerCommand: (envelope) => answerCommand(deps, envelope),
        installations: createInstallationStore(database.db, secrets),
        log,
      });
      platforms.slack ??= slack.ports;
      routes.push(...slack.routes);
    }

    // Teams: verified with MICROSOFT_APP_ID; without it only outside production (auth off, warned).
    if (config.MICROSOFT_APP_ID || config.NODE_ENV !== 'production') {
      const { maxReplyChars, ...auth } = options.teams ?? {};
      const { createTeamsAdapter } = await import('../adapters/teams/index.js');
      const teams = createTeamsAdapter({
        app: {
          appId: config.MICROSOFT_APP_ID,
          password: config.MICROSOFT_APP_PASSWORD,
          tenantId: config.MICROSOFT_APP_TENANT_ID,
          appType: config.MICROSOFT_APP_TYPE,
          production: config.NODE_ENV === 'production',
        },
        intake,
        refs: createConversationRefStore(database.db),
        log,
        auth,
        maxReplyChars,
      });
      platforms.teams ??= teams.ports;
      routes.push(...teams.routes);
    }

    let shuttingDown = false;
    const readiness: ReadinessCheck[] = [{ name: 'database', check: () => database.ping() }];
    // Without Redis the gate falls back to local limits, so the instance still works: but an operator
    // who configured shared limits wants to see that they are not shared right now.
    if (redisCheck) readiness.push({ name: 'redis', check: redisCheck });
    routes.push(metrics.route, ...healthRoutes(readiness, () => shuttingDown));
    const http = createHttpServer(routes, log);
    const { port } = await http.listen(config.PORT, config.HOST);
    worker.start();
    // Retention and uninstall purges run on a schedule kept in the database (survives restarts).
    const sweeper = startSweeper(database.db, { uninstallGraceDays: config.UNINSTALL_GRACE_DAYS, log });
    await slack?.start().catch(async (err: unknown) => {
      await worker.stop(0);
      await http.close();
      throw err;
    });
    log.info({ event: 'service.started', port, host: config.HOST, database: database.driver, model: deps.modelName }, 'Quorum is up');

    return {
      port,
      database,
      intake,
      worker,
      deps,
      metrics,
      async stop() {
        if (shuttingDown) return;
        shuttingDown = true;
        // Stop taking new work first; requests already inside may still be waiting on a worker.
        await slack?.stop();
        const httpClosed = http.close();
        await worker.stop(config.SHUTDOWN_GRACE_MS);
        await sweeper.stop();
        await Promise.race([httpClosed, new Promise((r) => setTimeout(r, 1_000).unref())]);
        http.server.closeAllConnections();
        await gate?.close();
        await database.close();
        log.info({ event: 'service.stopped' }, 'Quorum stopped');
      },
    };
  } catch (err) {
    await gate?.close();
    await database.close();
    throw err;
  }
}

function usesSlack(config: Config): boolean {
  return Boolean(config.SLACK_BOT_TOKEN || config.SLACK_CLIENT_ID || config.SLACK_APP_TOKEN);
}

async function notifyDead(deps: CoreDeps, envelope: Envelope, statusMessageId: string | null): Promise<void> {
  await portsFor(deps, envelope.workspace.platform).replies.post({ ...replyTargetOf(envelope), statusMessageId }, {
    kind: 'error',
    text: DEAD_LETTER_MESSAGE,
  });
}

/** The "busy" status for a message waiting behind its workspace's backlog; the answer replaces it. */
async function notifyQueued(deps: CoreDeps, envelope: Envelope, position: number): Promise<string | null> {
  if (envelope.kind !== 'mention' && envelope.kind !== 'direct') return null;
  const { replies } = portsFor(deps, envelope.workspace.platform);
  const shown = await replies.progress?.({ ...replyTargetOf(envelope), statusMessageId: null }, queuedNotice(position));
  return shown ? shown.statusMessageId : null;
}

export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let running: RunningQuorum;
  try {
    running = await startQuorum(config);
  } catch (err) {
    if (isQuorumError(err, 'DATA_DIR_LOCKED')) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (config.NODE_ENV !== 'production') {
    process.stdout.write(`\nQuorum console: http://${config.HOST}:${running.port}/\n\n`);
  }
  const shutdown = (signal: string) => {
    process.stdout.write(`${signal} received: shutting down\n`);
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}


