/**
 * Composition root: the only place that wires config, database, model, core, workers,
 * adapters and the HTTP server together. `npm start` runs `main()`; tests call `startQuorum()`.
 */
import { pathToFileURL } from 'node:url';
import { createConsoleAdapter } from '../adapters/console/index.js';
import { loadDemo, type Demo } from '../adapters/console/demo.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { Envelope } from './core/envelope.js';
import { isQuorumError } from './core/errors.js';
import { createIntake, type Intake } from './core/intake.js';
import type { Logger, ModelGate } from './core/ports.js';
import { portsFor, replyTargetOf, runTurn, type CoreDeps } from './core/turn.js';
import { createAdminStore } from './db/admin-store.js';
import { createAuditLog } from './db/audit-store.js';
import { startSweeper } from './db/sweeper.js';
import { openDatabase, type Database, type OpenOptions } from './db/client.js';
import { createInboxStore } from './db/inbox-store.js';
import { createTurnStore } from './db/turn-store.js';
import { createHttpServer, healthRoutes, type Route } from './http/server.js';
import { createWorker, type Worker } from './inbox/worker.js';
import { createLogger } from './log.js';
import { createDirectGate } from './model/direct-gate.js';
import { createModelFactory, modelNameFor } from './model/providers.js';
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
}

export interface RunningQuorum {
  port: number;
  database: Database;
  intake: Intake;
  worker: Worker;
  deps: CoreDeps;
  /** Stop intake, finish or release claimed work, close the database. */
  stop(): Promise<void>;
}

const DEAD_LETTER_MESSAGE = 'Sorry, I could not answer that request after several tries. Please ask again in a few minutes.';

export async function startQuorum(config: Config, options: StartOptions = {}): Promise<RunningQuorum> {
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, pglite: options.pglite });
  try {
    const secrets = createSecretBox(loadEncryptionKey({ key: config.QUORUM_ENCRYPTION_KEY, dataDir: config.DATA_DIR, log }));
    void secrets; // used by the platform installation stores
    const model =
      options.model ??
      createDirectGate({
        model: createModelFactory(config),
        modelName: (tier) => modelNameFor(config, tier),
        timeoutMs: config.MODEL_TIMEOUT_MS,
        log,
      });

    const inbox = createInboxStore(database.db);
    const platforms: CoreDeps['platforms'] = { ...options.platforms };
    const deps: CoreDeps = {
      turns: createTurnStore(database.db),
      audit: createAuditLog(database.db),
      model,
      modelName: modelNameFor(config),
      platforms,
      log,
      admin: createAdminStore(database.db),
      bootstrapAdmins: config.QUORUM_ADMINS,
    };

    const worker = createWorker({
      inbox,
      runTurn: (envelope) => runTurn(deps, envelope),
      notifyDead: (envelope) => notifyDead(deps, envelope),
      log,
      concurrency: config.WORKER_CONCURRENCY,
      leaseMs: config.INBOX_LEASE_MS,
      maxAttempts: config.INBOX_MAX_ATTEMPTS,
    });
    const intake = createIntake(inbox, () => worker.wake());

    const routes: Route[] = [];
    if (config.NODE_ENV !== 'production') {
      const consoleAdapter = createConsoleAdapter({ demo: options.demo ?? loadDemo(), intake });
      platforms.console ??= consoleAdapter.ports;
      routes.push(...consoleAdapter.routes);
    }

    let shuttingDown = false;
    routes.push(...healthRoutes([{ name: 'database', check: () => database.ping() }], () => shuttingDown));
    const http = createHttpServer(routes, log);
    const { port } = await http.listen(config.PORT, config.HOST);
    worker.start();
    // Retention and uninstall purges run on a schedule kept in the database (survives restarts).
    const sweeper = startSweeper(database.db, { uninstallGraceDays: config.UNINSTALL_GRACE_DAYS, log });
    log.info({ event: 'service.started', port, host: config.HOST, database: database.driver, model: deps.modelName }, 'Quorum is up');

    return {
      port,
      database,
      intake,
      worker,
      deps,
      async stop() {
        if (shuttingDown) return;
        shuttingDown = true;
        await http.close();
        await worker.stop(config.SHUTDOWN_GRACE_MS);
        await sweeper.stop();
        await database.close();
        log.info({ event: 'service.stopped' }, 'Quorum stopped');
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}

async function notifyDead(deps: CoreDeps, envelope: Envelope): Promise<void> {
  await portsFor(deps, envelope.workspace.platform).replies.post(replyTargetOf(envelope), {
    kind: 'error',
    text: DEAD_LETTER_MESSAGE,
  });
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


