/**
 * The Slack adapter on Bolt 5. Bolt's HTTPReceiver is mounted on the service's one HTTP server
 * (`/slack/events`); Socket Mode when an app token is set. With OAuth, `/slack/install` and
 * `/slack/oauth_redirect` are served there too, in both modes (install.ts). Every event is
 * written to the core's inbox before Slack gets its ack.
 */
import { App, HTTPReceiver, SocketModeReceiver, webApi, type Authorize, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { Config } from '../../src/config.js';
import { envelopeSchema, type Envelope } from '../../src/core/envelope.js';
import type { CommandAnswer } from '../../src/core/commands/index.js';
import type { Intake } from '../../src/core/intake.js';
import type { KnowledgeIntake } from '../../src/core/knowledge/indexer.js';
import type { InvalidationBus } from '../../src/core/ports.js';
import type { InteractionRouter } from '../../src/core/interactions.js';
import type { InstallationRecords, Logger, PlatformPorts, SeenRequests } from '../../src/core/ports.js';
import type { Route } from '../../src/http/server.js';
import type { AssistantPanel } from '../../src/core/assistant.js';
import { guardRequests } from './app-guard.js';
import { assistantListeners, inAssistantThread, withAssistantThreads } from './assistant.js';
import { boltLogger } from './bolt-logger.js';
import { registerCommand } from './command.js';
import { registerEvents } from './handlers.js';
import { createFileSource } from './files.js';
import { createHistory } from './history.js';
import { createHomeSurface } from './home.js';
import { createInstaller } from './install.js';
import { createKnowledgeSource } from './knowledge.js';
import { createWebApiTransport } from './web-api-transport.js';
import { registerInteractions } from './interactions.js';
import { createNotify, createPrivateChannel } from './notify.js';
import { refuseMalformed } from './request-guard.js';
import { createSendFile } from './send-file.js';
import { createDirectory, createMembership } from './people.js';
import { PerCallRateLimitClient } from './rate-limits.js';
import { createReplySink } from './replies.js';
import { guardTimestamp } from './request-guard.js';
import { cachedInstallations, createBoltInstallationStore, installationTokens, installKeyOf, singleTokens, type TokenSource } from './tokens.js';
import { watchSocketMode } from './socket-health.js';

export type SlackConfig = Pick<
  Config,
  | 'SLACK_SIGNING_SECRET'
  | 'SLACK_BOT_TOKEN'
  | 'SLACK_APP_TOKEN'
  | 'SLACK_CLIENT_ID'
  | 'SLACK_CLIENT_SECRET'
  | 'SLACK_STATE_SECRET'
  | 'SLACK_API_URL'
  | 'SLACK_APP_ID'
> &
  Partial<Pick<Config, 'KNOWLEDGE_BACKFILL_RPM' | 'KNOWLEDGE_BACKFILL_PAGE_SIZE'>>;

export interface SlackAdapterOptions {
  config: SlackConfig;
  intake: Intake;
  /** The core's synchronous command answer (answerCommand), for the /agent ack. */
  answerCommand: (envelope: Envelope) => Promise<CommandAnswer>;
  installations: InstallationRecords;
  /** Slash commands and interactions already acted on (replays are dropped), shared by instances. */
  seen: SeenRequests;
  log: Logger;
  /** Carries membership, channel, user and uninstall changes to every instance's caches. */
  invalidation: InvalidationBus;
  /** The assistant panel and the App Home (src/core/assistant.ts); without it their events are ignored. */
  panel?: AssistantPanel;
  /** The knowledge index: told of every message, edit and deletion of the channels the bot is in. */
  knowledge?: KnowledgeIntake | undefined;
  /** Buttons, modals and shortcuts go here (src/core/interactions.ts); without it they are acked and ignored. */
  interactions?: InteractionRouter;
}

export interface SlackAdapter {
  ports: PlatformPorts;
  routes: Route[];
  /** Connects Socket Mode (no-op over HTTP): resolves once connected, or once Slack proved unreachable (retries go on). */
  start(): Promise<void>;
  /** Readiness: over Socket Mode, rejects while the socket is not open. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/** Slack is configured when a signing secret (HTTP) or an app token (Socket Mode) comes with a way to get bot tokens. */
export function slackConfigured(c: SlackConfig): boolean {
  const tokens = Boolean(c.SLACK_BOT_TOKEN || (c.SLACK_CLIENT_ID && c.SLACK_CLIENT_SECRET && c.SLACK_STATE_SECRET));
  return tokens && Boolean(c.SLACK_SIGNING_SECRET || c.SLACK_APP_TOKEN);
}

export function createSlackAdapter(options: SlackAdapterOptions): SlackAdapter {
  const { config, log } = options;
  const oauth = Boolean(config.SLACK_CLIENT_ID && config.SLACK_CLIENT_SECRET && config.SLACK_STATE_SECRET);
  const logger = boltLogger(log);
  // Every WebClient (ours, Bolt's, the OAuth installer's, Socket Mode's) sends through one Web API transport.
  // The 10 s timeout lives there (undici's timers): WebClient's own would make an AbortSignal per call.
  const web = createWebApiTransport({ timeoutMs: SLACK_API_TIMEOUT_MS });
  const sdkOptions = { slackApiUrl: config.SLACK_API_URL, fetch: web.fetch };
  const clientOptions = { ...sdkOptions, logger };
  // Reads may retry (twice, quickly); posts retry only rate limits. A rate limit waits Retry-After
  // for that call alone, never for other workspaces' calls (rate-limits.ts).
  const readClient = new PerCallRateLimitClient({ ...clientOptions, retryConfig: { retries: 2, minTimeout: 100, maxTimeout: 1_000 } }, 2);
  const postClient = new PerCallRateLimitClient({ ...clientOptions, retryConfig: { retries: 0 } }, 3);

  const installations = cachedInstallations(options.installations);
  const tokens: TokenSource = oauth ? installationTokens(installations) : singleTokens(config.SLACK_BOT_TOKEN!);
  const directory = createDirectory({ client: readClient, tokens });
  const membership = createMembership({ client: readClient, tokens });
  const history = createHistory({ client: readClient, tokens });
  const home = createHomeSurface(postClient, tokens);
  const files = createFileSource({ client: readClient, tokens, apiUrl: config.SLACK_API_URL });
  // Backfills wait out rate limits (Retry-After, several times) rather than fail: nobody waits on them.
  // The client hands a 429 back at once: the knowledge source's pacer waits and counts the retry.
  const backfillClient = new PerCallRateLimitClient({ ...clientOptions, retryConfig: { retries: 2, minTimeout: 500, maxTimeout: 5_000 } }, 0);
  const knowledge = createKnowledgeSource({
    client: backfillClient,
    rateLimitRetries: 5,
    tokens,
    pageSize: config.KNOWLEDGE_BACKFILL_PAGE_SIZE ?? 200,
    rpm: config.KNOWLEDGE_BACKFILL_RPM ?? 50,
  });
  const replies = withAssistantThreads(createReplySink({ client: postClient, tokens, log }), postClient, tokens, log);
  const notify = createNotify({ client: postClient, tokens });
  const installationStore = createBoltInstallationStore(installations, log);
  const unsubscribe = options.invalidation.subscribe((message) => {
    if ('workspace' in message && message.workspace.platform !== 'slack') return;
    directory.invalidate(message);
    membership.invalidate(message);
    if (message.kind === 'workspace') tokens.forget(message.workspace);
  });

  const installer = oauth
    ? createInstaller({
        clientId: config.SLACK_CLIENT_ID!,
        clientSecret: config.SLACK_CLIENT_SECRET!,
        stateSecret: config.SLACK_STATE_SECRET!,
        scopes: BOT_SCOPES,
        installationStore,
        logger,
        clientOptions: sdkOptions,
      })
    : null;

  let receiver: Receiver;
  let http: HTTPReceiver | null = null;
  const socketWatch = config.SLACK_APP_TOKEN ? watchSocketMode(config.SLACK_API_URL, log, logger) : null;
  if (config.SLACK_APP_TOKEN) {
    // No OAuth options here: given them, the receiver would start its own install server (port 3000).
    // The socket client (apps.connections.open) reads its Web API URL and retries from installerOptions.
    receiver = new SocketModeReceiver({ appToken: config.SLACK_APP_TOKEN, logger, installerOptions: { clientOptions: { ...sdkOptions, ...socketWatch!.clientOptions } } });
  } else {
    http = new HTTPReceiver({
      signingSecret: config.SLACK_SIGNING_SECRET!,
      endpoints: ['/slack/events'],
      logger,
      // The ack waits for the inbox write: an event that was not stored is never acked.
      processBeforeResponse: true,
      // Bolt answers 404 when no ack came within 3.001 s. Slack has stopped waiting by then anyway;
      // on a busy event loop it would only turn a command's late "Working on it…" ack into a 404.
      unhandledRequestTimeoutMillis: 6_000,
      // The signature names this exact request (timestamp and body): the replay guard keys on it.
      customPropertiesExtractor: (req) => ({ requestSignature: String(req.headers['x-slack-signature'] ?? '') }),
      // A signed interaction whose payload is not what Slack sends: 400, nothing done.
      processEventErrorHandler: refuseMalformed,
    });
    receiver = http;
  }

  const single = oauth ? null : singleWorkspaceAuthorize(readClient, config.SLACK_BOT_TOKEN!, log);
  const app = new App({
    receiver,
    logger,
    // A copy: Bolt writes its logger into the object it is given.
    clientOptions: { ...clientOptions },
    // Bolt's in-memory conversation store is unused here and costs on every event.
    convoStore: false,
    authorize: installer ? installer.authorize : single!.authorize,
  });
  guardRequests(app, {
    seen: options.seen,
    log,
    // SLACK_APP_ID, else the app the token or the installation belongs to.
    async expectedAppId(context) {
      if (config.SLACK_APP_ID) return config.SLACK_APP_ID;
      if (single) return single.appId();
      if (!context.teamId && !context.enterpriseId) return null;
      const found = await installations.find('slack', installKeyOf(context)).catch(() => null);
      return found ? ((JSON.parse(found.secret) as { appId?: string }).appId ?? null) : null;
    },
  });
  if (receiver instanceof SocketModeReceiver) ackAfterProcessing(receiver, app);
  app.error(async (err) => {
    log.error({ event: 'slack.listener_failed', code: err.code, err: err.message.slice(0, 200) }, 'Slack event not processed');
    throw err;
  });

  registerEvents(app, {
    intake: options.intake,
    publish: (message) => options.invalidation.publish(message),
    log,
    knowledge: options.knowledge,
    uninstall: async (workspace, installKeys) => {
      for (const key of installKeys) await installations.remove('slack', key);
      await installations.markUninstalled(workspace);
      await options.invalidation.publish({ kind: 'workspace', workspace });
    },
    ...(options.panel ? { surfaces: surfacesOf(options.panel, postClient, tokens, log) } : {}),
  });
  registerCommand(app, { answerCommand: options.answerCommand, log, parse: (e) => envelopeSchema.parse(e) });
  if (options.interactions) registerInteractions(app, { router: options.interactions, client: postClient, tokens, log });

  const routes: Route[] = [];
  if (http) {
    const listener = http.requestListener;
    const handler: Route['handler'] = (req, res) => {
      if (!guardTimestamp(req, res)) return;
      listener(req, res);
    };
    routes.push({ method: 'POST', path: '/slack/events', handler });
  }
  if (installer) routes.push(...installer.routes);

  return {
    ports: {
      membership,
      directory,
      replies,
      history,
      notify,
      home,
      files,
      knowledge,
      privateChannel: createPrivateChannel({ client: postClient, tokens }),
      sendFile: createSendFile({ client: postClient, tokens }),
    },
    routes,
    async start() {
      if (socketWatch) await socketWatch.start(() => app.start(), (receiver as SocketModeReceiver).client);
    },
    ready: async () => socketWatch?.check(),
    async stop() {
      unsubscribe();
      socketWatch?.stop();
      if (config.SLACK_APP_TOKEN) await app.stop();
    },
  };
}

/**
 * Bolt acks Events API deliveries before the listeners run. Over Socket Mode that would ack an
 * event the inbox never stored: hold the ack until processing is done (what processBeforeResponse
 * does over HTTP); an event that failed is not acked, so Slack delivers it again.
 */
function ackAfterProcessing(receiver: SocketModeReceiver, app: App): void {
  receiver.init({
    processEvent: async (event: ReceiverEvent) => {
      let held: { response?: unknown } | null = null;
      await app.processEvent({
        ...event,
        ack: async (response?: unknown) => {
          held = { response };
        },
      });
      const ack = held as { response?: unknown } | null;
      if (ack) await event.ack(ack.response as never);
    },
  } as unknown as App);
}

function surfacesOf(panel: AssistantPanel, client: webApi.WebClient, tokens: TokenSource, log: Logger) {
  return { listeners: assistantListeners(panel, client, tokens, log), inThread: (e: Parameters<typeof inAssistantThread>[1]) => inAssistantThread(panel, e) };
}

/** How long a Web API call may wait for Slack's answer (headers, then each piece of the body). */
export const SLACK_API_TIMEOUT_MS = 10_000;

export const BOT_SCOPES = [
  'app_mentions:read',
  'channels:read',
  'groups:read',
  'im:read',
  'im:write', // conversations.open: budget alerts DM the admins
  'mpim:read',
  'channels:history',
  'groups:history',
  'im:history',
  'mpim:history',
  'chat:write',
  'files:write', // /agent audit export: the file goes to the admin's DM
  'commands',
  'files:read', // files.info and url_private: the files people share with a question
  'users:read',
  'assistant:write', // the assistant panel: suggested prompts, status and title of its threads
];

/**
 * One workspace: the token's own team (auth.test, asked once) is the only one served. An event
 * from any other team is refused (Bolt answers 401) and logged.
 */
function singleWorkspaceAuthorize(client: webApi.WebClient, token: string, log: Logger): { authorize: Authorize<boolean>; appId(): Promise<string | null> } {
  let identity: Promise<{ teamId?: string; enterpriseId?: string; botId?: string; botUserId?: string; appId?: string }> | null = null;
  const authorize: Authorize<boolean> = async (source) => {
    identity ??= client.auth.test({ token }).then(
      (r) => ({ teamId: r.team_id, enterpriseId: r.enterprise_id, botId: r.bot_id, botUserId: r.user_id, appId: r.app_id }),
      (err: unknown) => {
        identity = null;
        throw err;
      },
    );
    const me = await identity;
    const sameTeam = source.teamId !== undefined && source.teamId === me.teamId;
    const sameOrg = source.isEnterpriseInstall && source.enterpriseId !== undefined && source.enterpriseId === me.enterpriseId;
    if (!sameTeam && !sameOrg) {
      log.warn({ event: 'slack.unknown_workspace', team: source.teamId ?? null, enterprise: source.enterpriseId ?? null }, 'event for another workspace refused');
      throw new Error('event for a workspace this token does not serve');
    }
    return { botToken: token, botId: me.botId, botUserId: me.botUserId, teamId: source.teamId, enterpriseId: source.enterpriseId };
  };
  // Known once authorize has asked auth.test (it runs before the guard, except for uninstall events).
  return { authorize, appId: async () => (identity ? ((await identity.catch(() => null))?.appId ?? null) : null) };
}
