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
import { openInvalidationBus } from './bus/index.js';
import { openSharedRedis, type SharedRedis } from './limiter/redis-connection.js';
import { redisToolRate } from './limiter/tool-rate.js';
import type { Envelope } from './core/envelope.js';
import { createBudgetAlerts } from './core/alerts.js';
import { isQuorumError } from './core/errors.js';
import { createIntake, type Intake } from './core/intake.js';
import { createInteractionRouter, type InteractionHandler, type InteractionRouter } from './core/interactions.js';
import type { AuditLog, FileText, InvalidationBus, Logger, ModelGate, ToolCredentials } from './core/ports.js';
import { answerCommand, portsFor, queuedNotice, replyTargetOf, runTurn, type CoreDeps } from './core/turn.js';
import { deliveryMemoryOf } from './core/reply-memory.js';
import { createAgentStore } from './db/agent-store.js';
import { createKnowledgeStore } from './db/knowledge-store.js';
import { enableVector } from './db/vector.js';
import { createKnowledge, type Knowledge } from './core/knowledge/service.js';
import { createEmbedder } from './model/embedding.js';
import { createAuditLog } from './db/audit-store.js';
import { adoptUnsignedHeads, auditSigningKeyOf, signAuditHeads } from './db/audit-signing.js';
import { createAuditExporter } from './db/audit-export.js';
import { createProfileStore } from './db/profile-store.js';
import { modelCatalogOf, priceTableOf } from './model/choices.js';
import { createConversationRefStore } from './db/conversation-ref-store.js';
import { createAdminStore } from './db/admin-store.js';
import { createFeedbackStore } from './db/feedback-store.js';
import { createFeedbackHandler } from './core/feedback.js';
import { createAskHandler } from './core/ask.js';
import { createAssistantThreads, createHomeReads } from './db/home-store.js';
import { createAssistantPanel } from './core/assistant.js';
import { createSettingsHandler } from './core/settings.js';
import { startSweeper } from './db/sweeper.js';
import { openDatabase, type Database, type OpenOptions } from './db/client.js';
import { withBatchedEnqueue } from './db/inbox-batch.js';
import { createInboxStore } from './db/inbox-store.js';
import { createInstallationStore } from './db/installation-store.js';
import { createSeenRequests } from './db/seen-requests.js';
import { createTurnStore, createWorkspaceCache } from './db/turn-store.js';
import { createMetrics, instrumentAuditLog, type Metrics, instrumentIntake, instrumentModelGate } from './http/metrics.js';
import { createHttpServer, healthRoutes, listenFailure, type ReadinessCheck, type Route } from './http/server.js';
import { isLoopbackAddress, loopbackOnly } from './http/loopback.js';
import { devConveniences, usesSlack } from './http/dev-conveniences.js';
import { metricsExposure } from './http/metrics-access.js';
import { createWorker, type Worker } from './inbox/worker.js';
import { createLogger } from './log.js';
import { captureConsole } from './console-capture.js';
import { createUsageLedger } from './db/usage-ledger.js';
import { createGateFromConfig } from './model/from-config.js';
import { createPricing } from './model/pricing.js';
import { modelNameFor } from './model/providers.js';
import { createSecretBox, loadEncryptionKey, type SecretBox } from './secrets.js';
import { toolInteractionHandlers } from './core/confirm/index.js';
import { createToolCredentials } from './core/confirm/credentials.js';
import { createConfirmationStore, createConfirmRules, createCredentialStore, createOAuthStateStore } from './db/confirmation-store.js';
import { modelAcceptsImages } from './model/capabilities.js';
import { fileExtractor } from './files/extract.js';
import { createFileText } from './files/file-text.js';
import { createToolConnectionStore } from './db/tool-store.js';
import { demoConnection, openConnectedTools } from './tools/index.js';
import { oauthCallbackRoute } from './http/oauth-callback.js';

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
  /** More interaction handlers beside the features' own (tests register recording ones). */
  interactionHandlers?: InteractionHandler[];
}

export interface RunningQuorum {
  port: number;
  database: Database;
  intake: Intake;
  worker: Worker;
  deps: CoreDeps;
  metrics: Metrics;
  /** Clicks and dialog submissions from every platform, by action-id prefix (src/core/interactions.ts). */
  interactions: InteractionRouter;
  /** What connected tools' transports ask for a call's credentials (src/core/ports/tools.ts). */
  toolCredentials: ToolCredentials;
  /** Stop intake, finish or release claimed work, close the database. */
  stop(): Promise<void>;
}

const DEAD_LETTER_MESSAGE = 'Sorry, I could not answer that request after several tries. Please ask again in a few minutes.';

export async function startQuorum(config: Config, options: StartOptions = {}): Promise<RunningQuorum> {
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const conveniences = devConveniences(config, log);
  // Libraries' console lines (botbuilder's token errors among them) go through the logger while Quorum runs.
  const releaseConsole = captureConsole(log);
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, pglite: options.pglite, poolSize: config.DATABASE_POOL_SIZE }).catch(
    (err: unknown) => {
      releaseConsole();
      throw err;
    },
  );
  let gate: ReturnType<typeof createGateFromConfig> | null = null;
  let invalidation: InvalidationBus | null = null;
  let connected: ReturnType<typeof openConnectedTools> | null = null;
  // One Redis connection for every limit shared across instances: the model gate's and the connected tools' rate.
  const sharedRedis: SharedRedis | undefined = config.REDIS_URL ? openSharedRedis(config.REDIS_URL, log) : undefined;
  try {
    const demo = conveniences ? (options.demo ?? loadDemo()) : null;
    // One key for every secret at rest, loaded when the first one is sealed or opened (the development-key warning then).
    let box: SecretBox | null = null;
    const secrets = () => (box ??= createSecretBox(loadEncryptionKey({ key: config.QUORUM_ENCRYPTION_KEY, dataDir: config.DATA_DIR, log })));
    const sealing = { seal: (text: string) => secrets().seal(text), open: (sealed: string) => secrets().open(sealed) };
    const credentials = createCredentialStore(database.db, sealing);
    const toolCredentials = createToolCredentials(credentials);
    // A bad QUORUM_TOOLS_FILE stops start-up here, naming the bad entry. The console's demo workspace gets the tickets server.
    connected = openConnectedTools(config, {
      store: createToolConnectionStore(database.db),
      credentials: toolCredentials,
      signIn: { states: createOAuthStateStore(database.db, sealing), credentials, audit: createAuditLog(database.db) },
      log,
      extra: demo ? [demoConnection(`console:${demo.workspace.id}`, config.DATA_DIR)] : [],
      sharedRate: sharedRedis ? redisToolRate(sharedRedis) : undefined,
    });
    // Revocations (a member left, a channel archived, a user deactivated) and connected-tool rule changes reach every instance's caches.
    invalidation = await openInvalidationBus(config, log);
    connected.tools.listen(invalidation);
    // Every audit head this instance writes is signed with a key the database never holds.
    const auditKey = auditSigningKeyOf(config);
    if (auditKey) {
      signAuditHeads(database.db, auditKey);
      const adopted = await adoptUnsignedHeads(database.db, auditKey);
      if (adopted > 0) log.warn({ event: 'audit.heads_adopted', heads: adopted }, 'signed the audit chain heads written before signing was on (first start with a signing key)');
    }
    const workspaces = createWorkspaceCache(database.db);
    const inbox = withBatchedEnqueue(database.db, createInboxStore(database.db, workspaces), workspaces);
    const metrics = createMetrics(inbox, { workspaceLabels: config.METRICS_WORKSPACE_LABELS });
    const turns = createTurnStore(database.db, workspaces);
    const audit = instrumentAuditLog(createAuditLog(database.db), metrics);
    const admin = createAdminStore(database.db);
    const feedback = createFeedbackStore(database.db);
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
          redis: sharedRedis,
        });
    const model: ModelGate = options.model ?? gate!;
    const redisCheck = gate?.redisCheck ?? null;

    const fileText = createFileText({ sourceFor: (platform) => platforms[platform]?.files, extractor: fileExtractor, maxBytes: config.FILE_MAX_BYTES });
    const knowledge = await startKnowledge(config, database, turns, log, { fileText, audit });
    const deps: CoreDeps = {
      turns,
      audit,
      model: instrumentModelGate(model, metrics, createPricing(priceTableOf(config)).costMicroUsd),
      modelName: modelNameFor(config),
      limitDefaults: { rpm: config.WORKSPACE_RPM, concurrency: config.WORKSPACE_CONCURRENCY, dailyTokens: config.WORKSPACE_DAILY_TOKENS ?? null },
      platforms,
      log,
      agent: {
        store: createAgentStore(database.db),
        knowledge: knowledge?.search,
        connected: { tools: connected.tools },
        confirm: { confirmations: createConfirmationStore(database.db), rules: createConfirmRules(database.db), ttlMs: config.CONFIRM_TTL_MS },
      },
      connections: connected.admin,
      toolCredentials,
      admin,
      feedback,
      bootstrapAdmins: config.QUORUM_ADMINS,
      home: createHomeReads(database.db),
      assistantThreads: createAssistantThreads(database.db),
      files: { extractor: fileExtractor, maxBytes: config.FILE_MAX_BYTES, acceptsImages: modelAcceptsImages(config) },
      models: modelCatalogOf(config),
      profiles: createProfileStore(database.db),
      auditExport: createAuditExporter(database.db),
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
    // One router for every platform's buttons, dialogs and message actions: each feature owns a prefix.
    const interactions = createInteractionRouter(
      [
        createFeedbackHandler({ core: deps, store: feedback, counted: (rating) => metrics.feedback.inc({ rating }) }),
        createAskHandler({ core: deps, intake }),
        createSettingsHandler(deps),
        ...toolInteractionHandlers(deps, { intake, credentials }),
        ...(options.interactionHandlers ?? []),
      ],
      log,
    );

    const routes: Route[] = [];
    if (conveniences) {
      const consoleAdapter = createConsoleAdapter({ demo: demo ?? loadDemo(), intake, interactions });
      platforms.console ??= consoleAdapter.ports;
      routes.push(...consoleAdapter.routes.map(loopbackOnly));
    }

    let slack: SlackAdapter | null = null;
    // Platform SDKs are loaded only for the platforms in use: Bolt alone is tens of MB of heap.
    const slackModule = usesSlack(config) ? await import('../adapters/slack/index.js') : null;
    if (slackModule?.slackConfigured(config)) {
      slack = slackModule.createSlackAdapter({
        config,
        intake,
        answerCommand: (envelope) => answerCommand(deps, envelope),
        // Only Slack stores tokens: the key (and the development-key warning) matter only here.
        installations: createInstallationStore(database.db, secrets()),
        seen: createSeenRequests(database.db),
        log,
        invalidation,
        panel: createAssistantPanel(deps),
        knowledge: knowledge?.intake,
        interactions,
      });
      platforms.slack ??= slack.ports;
      routes.push(...slack.routes);
    }

    // Teams: verified with MICROSOFT_APP_ID; without it only as a convenience (auth off, warned, loopback only).
    if (config.MICROSOFT_APP_ID || conveniences) {
      const { maxReplyChars, ...auth } = options.teams ?? {};
      const { createTeamsAdapter } = await import('../adapters/teams/index.js');
      const teams = createTeamsAdapter({
        app: {
          appId: config.MICROSOFT_APP_ID,
          password: config.MICROSOFT_APP_PASSWORD,
          tenantId: config.MICROSOFT_APP_TENANT_ID,
          appType: config.MICROSOFT_APP_TYPE,
          production: config.NODE_ENV === 'production',
          serviceUrlHosts: config.MICROSOFT_SERVICE_URL_HOSTS,
        },
        intake,
        refs: createConversationRefStore(database.db),
        log,
        invalidation,
        knowledge: knowledge?.intake,
        interactions,
        seen: createSeenRequests(database.db),
        auth,
        maxReplyChars,
      });
      platforms.teams ??= teams.ports;
      routes.push(...(config.MICROSOFT_APP_ID ? teams.routes : teams.routes.map(loopbackOnly)));
    }

    let shuttingDown = false;
    const readiness: ReadinessCheck[] = [{ name: 'database', check: () => database.ping() }];
    // Without Redis the gate falls back to local limits, so the instance still works: but an operator
    // who configured shared limits wants to see that they are not shared right now.
    if (redisCheck) readiness.push({ name: 'redis', check: redisCheck });
    // Socket Mode: not ready while Slack's socket is not open (Slack unreachable, reconnecting).
    if (slack) readiness.push({ name: 'slack', check: slack.ready });
    const metricsAccess = { token: config.METRICS_TOKEN, port: config.METRICS_PORT, host: config.METRICS_HOST, mainHost: config.HOST, production: config.NODE_ENV === 'production' };
    const exposedMetrics = metricsExposure(metricsAccess, metrics.route, log);
    routes.push(oauthCallbackRoute(connected.completeSignIn, log), ...exposedMetrics.routes, ...healthRoutes(readiness, () => shuttingDown));
    const http = createHttpServer(routes, log);
    const { port } = await http.listen(config.PORT, config.HOST);
    const metricsHttp = await exposedMetrics.listen().catch(async (err: unknown) => {
      await http.close();
      throw err;
    });
    worker.start();
    // Backfills use each platform's history source: started once the adapters are.
    for (const [platform, ports] of Object.entries(platforms)) if (knowledge && ports?.knowledge) knowledge.sources[platform as keyof typeof platforms] = ports.knowledge;
    knowledge?.start();
    // Retention and uninstall purges run on a schedule kept in the database (survives restarts).
    const sweeper = startSweeper(database.db, { uninstallGraceDays: config.UNINSTALL_GRACE_DAYS, log, confirmations: deps.agent.confirm?.confirmations });
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
      interactions,
      toolCredentials,
      async stop() {
        if (shuttingDown) return;
        shuttingDown = true;
        // Stop taking new work first; requests already inside may still be waiting on a worker.
        await slack?.stop();
        const httpClosed = http.close();
        await worker.stop(config.SHUTDOWN_GRACE_MS);
        await knowledge?.stop();
        await sweeper.stop();
        await Promise.race([httpClosed, new Promise((r) => setTimeout(r, 1_000).unref())]);
        http.server.closeAllConnections();
        metricsHttp?.server.closeAllConnections();
        await metricsHttp?.close();
        await gate?.close();
        await connected?.tools.close();
        await sharedRedis?.close();
        await invalidation?.close();
        await database.close();
        releaseConsole();
        log.info({ event: 'service.stopped' }, 'Quorum stopped');
      },
    };
  } catch (err) {
    await gate?.close();
    await connected?.tools.close();
    await sharedRedis?.close();
    await invalidation?.close();
    await database.close();
    releaseConsole();
    throw err;
  }
}

/** The knowledge index (KNOWLEDGE=on): vectors only with an embedding model and pgvector (one log line otherwise). */
async function startKnowledge(config: Config, database: Database, turns: CoreDeps['turns'], log: Logger, files: { fileText: FileText; audit: AuditLog }): Promise<Knowledge | null> {
  if (config.KNOWLEDGE === 'off') return null;
  const embedder = createEmbedder(config);
  const vector = embedder && config.EMBEDDING_MODEL && (await enableVector(database, log)) ? { model: config.EMBEDDING_MODEL } : false;
  return createKnowledge({
    store: createKnowledgeStore(database.db, { vector }),
    resolveWorkspace: (ref) => turns.resolveWorkspace(ref),
    embedder: vector ? embedder : null,
    ...files,
    log,
    workerId: `${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    backfill: { leaseMs: 60_000, pagesPerClaim: 5, idleMs: 5_000 },
  });
}

async function notifyDead(deps: CoreDeps, envelope: Envelope, statusMessageId: string | null): Promise<void> {
  await portsFor(deps, envelope.workspace.platform).replies.post(
    replyTargetOf(envelope),
    { kind: 'error', text: DEAD_LETTER_MESSAGE },
    deliveryMemoryOf(statusMessageId),
  );
}

/** The "busy" status for a message waiting behind its workspace's backlog; the answer replaces it. */
async function notifyQueued(deps: CoreDeps, envelope: Envelope, position: number): Promise<string | null> {
  if (envelope.kind !== 'mention' && envelope.kind !== 'direct') return null;
  const { replies } = portsFor(deps, envelope.workspace.platform);
  const shown = await replies.progress?.(replyTargetOf(envelope), queuedNotice(position), deliveryMemoryOf());
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
    if (isQuorumError(err, 'DATA_DIR_LOCKED') || isQuorumError(err, 'CONFIG_INVALID') || isQuorumError(err, 'TOOLS_FILE_INVALID')) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    const listenProblem = listenFailure(err, config.HOST, config.PORT);
    if (listenProblem) {
      process.stderr.write(`${listenProblem}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (config.NODE_ENV !== 'production' && isLoopbackAddress(config.HOST)) {
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


