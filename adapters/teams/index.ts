/**
 * The Teams adapter: `POST /api/messages` on the service's HTTP server, verified by botbuilder's
 * CloudAdapter, mapped to envelopes for the core's inbox; and the Teams ports (membership,
 * directory, replies). See README "Connect Teams".
 */
import { LRUCache } from 'lru-cache';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ActivityTypes, TeamsInfo, TurnContext, type CloudAdapter } from 'botbuilder';
import { isCommandText } from '../../src/core/commands/index.js';
import type { WorkspaceRef } from '../../src/core/envelope.js';
import type { Intake } from '../../src/core/intake.js';
import { localInvalidationBus } from '../../src/core/invalidation.js';
import { suggestedPrompts } from '../../src/core/suggested-prompts.js';
import type { InvalidationBus } from '../../src/core/ports.js';
import type { InteractionRouter } from '../../src/core/interactions.js';
import type { ConversationRefStore, Logger, PlatformPorts, SeenRequests } from '../../src/core/ports.js';
import { readBody, sendJson, type Route } from '../../src/http/server.js';
import {
  activitySchema,
  channelRefOf,
  conversationKeyOf,
  conversationKindOf,
  envelopeOf,
  isClosedChannel,
  stripBotMention,
  tenantOf,
  workspaceOf,
  type TeamsActivity,
} from './activity.js';
import { authEnabled, createCloudAdapter, isAuthFailure, type TeamsApp, type TeamsAuthOverrides } from './auth.js';
import { createDirectory } from './directory.js';
import { createHomeCards } from './home-card.js';
import { createMembership } from './membership.js';
import { createFileSource } from './files.js';
import { graphAccessOf } from './graph-files.js';
import { isCardSubmit, onInteraction, type TeamsInteractionDeps } from './interactions.js';
import { createNotify, createPrivateChannel } from './notify.js';
import { createFileConsent } from './file-consent.js';
import { createReplySink } from './replies.js';
import { createRuntime, keys, storedConversationOf, type TeamsRuntime } from './runtime.js';
import { observeActivity } from './knowledge.js';
import type { KnowledgeIntake } from '../../src/core/knowledge/indexer.js';

export type { TeamsAuthOverrides } from './auth.js';

export const WELCOME =
  "Hi, I'm Quorum. Mention me in a channel to ask about the work there, or chat with me 1:1 for private work. Type `/agent help` for commands.";

export interface TeamsAdapterOptions {
  app: TeamsApp;
  intake: Intake;
  refs: ConversationRefStore;
  log: Logger;
  auth?: TeamsAuthOverrides;
  /** Longest reply message before splitting (tests use a small one). */
  maxReplyChars?: number;
  /** Carries roster and uninstall changes to every instance's caches (default: this process only). */
  invalidation?: InvalidationBus;
  /** The knowledge index: told of channel messages (received through resource-specific consent), edits and deletions. */
  knowledge?: KnowledgeIntake | undefined;
  /** Card buttons, task modules and message extension actions go here; without it invokes are acknowledged only. */
  interactions?: InteractionRouter;
  /** Interactions already acted on (a retried invoke acts once); required with `interactions`. */
  seen?: SeenRequests;
  /** `fileConsent/invoke` (a file Quorum offered was accepted or declined). */
  fileConsent?: TeamsInteractionDeps['fileConsent'];
}

export interface TeamsAdapter {
  routes: Route[];
  ports: PlatformPorts;
  cloudAdapter: CloudAdapter;
}

type Outcome = { status: number; body?: unknown };

/** `ownFileConsent`: the adapter's own answer to its file consent cards (file-consent.ts), unless the options name another. */
function interactionDeps(options: TeamsAdapterOptions, ownFileConsent: NonNullable<TeamsInteractionDeps['fileConsent']>): TeamsInteractionDeps | null {
  if (!options.interactions || !options.seen) return null;
  return { router: options.interactions, seen: options.seen, log: options.log, fileConsent: options.fileConsent ?? ownFileConsent };
}

export function createTeamsAdapter(options: TeamsAdapterOptions): TeamsAdapter {
  const { app, intake, refs, log } = options;
  const cloudAdapter = createCloudAdapter(app, options.auth);
  // Said when Teams is actually used (its first request), not on every start where nobody uses it.
  let authOffSaid = authEnabled(app);
  const runtime = createRuntime(cloudAdapter, app.appId ?? '', refs, log);
  const invalidation = options.invalidation ?? localInvalidationBus(log);
  const membership = createMembership(runtime);
  const directory = createDirectory(runtime);
  invalidation.subscribe((message) => {
    if ('workspace' in message && message.workspace.platform !== 'teams') return;
    membership.invalidate(message);
    directory.invalidate(message);
  });
  const fileConsent = createFileConsent(runtime);
  const ports: PlatformPorts = {
    membership,
    directory,
    replies: createReplySink(runtime, { maxChars: options.maxReplyChars }),
    notify: createNotify(runtime),
    home: createHomeCards(runtime, log),
    files: createFileSource(runtime, cloudAdapter.serviceUrlAllowed, options.auth?.graph === undefined ? graphAccessOf(app) : options.auth.graph),
    privateChannel: createPrivateChannel(runtime),
    sendFile: fileConsent.sendFile,
    // No `history` port: a channel's or chat's messages are served only by Microsoft Graph (RSC
    // ChannelMessage.Read.Group / ChatMessage.Read.Chat), which Quorum does not call yet; so
    // summarize_thread falls back to the messages Quorum stored, and says so.
  };
  const tenants = createTenantGate(app, refs);
  const interactions = interactionDeps(options, fileConsent.handleFileConsent);

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    if (!authOffSaid) {
      authOffSaid = true;
      log.warn({ event: 'teams.auth_off' }, 'MICROSOFT_APP_ID is not set: Teams requests are NOT verified (local use only)');
    }
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      sendJson(res, 400, { error: 'body is not valid JSON' });
      return;
    }
    // CloudAdapter.process() throws on a body without `type` and leaves the request hanging: check first.
    const parsed = activitySchema.safeParse(body);
    if (!parsed.success) {
      sendJson(res, 400, { error: 'not an activity: type is missing' });
      return;
    }
    // Where the answer would go, with the bot's token: empty would skip botbuilder's check that the
    // token's serviceurl claim names it, and a host outside the allow-list is no Bot Connector.
    const serviceUrl = parsed.data.serviceUrl?.trim() ?? '';
    if (!serviceUrl || !cloudAdapter.serviceUrlAllowed(serviceUrl)) {
      log.warn({ event: 'teams.service_url_refused', empty: !serviceUrl, host: hostOf(serviceUrl) }, 'activity refused: serviceUrl is not a Bot Connector host');
      sendJson(res, serviceUrl ? 403 : 401, { error: serviceUrl ? 'serviceUrl not allowed' : 'unauthorized' });
      return;
    }
    const authHeader = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
    let outcome: Outcome = { status: 200 };
    // Errors of Quorum's own handling, kept apart so that only verification failures become 401.
    let handlingError: unknown;
    try {
      // Not process(): it logs errors to the console and answers jsonwebtoken's errors with 500.
      if (parsed.data.type === ActivityTypes.Message && !isCardSubmit(parsed.data)) {
        // Messages are only queued here (answers are posted later, proactively): no turn needed.
        await cloudAdapter.verify(authHeader, body as never);
        outcome = await onTurn(parsed.data).catch((err: unknown) => {
          handlingError = err;
          return { status: 500 };
        });
      } else {
        await cloudAdapter.verifyAndRun(authHeader, body as never, async (context) => {
          outcome = await onTurn(parsed.data, context).catch((err: unknown) => {
            handlingError = err;
            return { status: 500 };
          });
        });
      }
    } catch (err) {
      if (isAuthFailure(err)) {
        log.warn({ event: 'teams.unauthorized', reason: (err as Error).name }, 'Teams request refused: token not valid');
        sendJson(res, 401, { error: 'unauthorized' });
        return;
      }
      throw err;
    }
    // Nothing was stored (the database did not answer): 503, never an ack. The Teams channel
    // delivers the activity again and the inbox dedupes it.
    if (handlingError !== undefined) {
      log.error({ event: 'teams.intake_failed', err: (handlingError as Error)?.name }, 'Teams activity not stored');
      sendJson(res, 503, { error: 'could not store the activity; send it again' });
      return;
    }
    if (outcome.status === 200 && outcome.body === undefined) {
      res.writeHead(200).end();
      return;
    }
    sendJson(res, outcome.status, outcome.body ?? {});
  };

  async function onTurn(activity: TeamsActivity, context?: TurnContext): Promise<Outcome> {
    const tenantId = tenantOf(activity);
    if (!tenantId) return { status: 400, body: { error: 'activity without a tenant' } };
    const workspace = workspaceOf(tenantId);
    const isInstall =
      (activity.type === ActivityTypes.InstallationUpdate && activity.action?.startsWith('add')) ||
      (activity.type === ActivityTypes.ConversationUpdate && addsBot(activity));
    if (!(await tenants.allowed(tenantId, isInstall))) {
      log.warn({ event: 'teams.tenant_refused', tenant: tenantId, type: activity.type }, 'activity from a tenant that is not allowed');
      return { status: 403, body: { error: 'tenant not allowed' } };
    }
    if (context && (activity.type === ActivityTypes.Invoke || isCardSubmit(activity))) {
      if (interactions) {
        // Where it came from is known from now on (a channel's team, for membership of "ask about" turns).
        await saveRoutes(runtime, activity, workspace);
        return onInteraction(interactions, activity, tenantId, context);
      }
      // Without the interaction router, the answer to a file consent card (`/agent audit export`) is still taken.
      if ((activity as { name?: unknown }).name === 'fileConsent/invoke') return fileConsent.handleFileConsent(activity, context);
      return { status: 200, body: {} };
    }
    if (options.knowledge) {
      // Its files are read later through Graph, which knows the team by its group id.
      await rememberTeamGroup(runtime, activity, workspace);
      await observeActivity(options.knowledge, workspace, activity);
    }
    switch (activity.type) {
      case ActivityTypes.Message:
        return onMessage(await withMentionedIds(activity), workspace, tenantId);
      case ActivityTypes.ConversationUpdate:
        if (context) await onConversationUpdate(context, activity, workspace);
        return { status: 200 };
      case ActivityTypes.InstallationUpdate:
        await onInstallationUpdate(activity, workspace);
        return { status: 200 };
      default:
        return { status: 200 };
    }
  }

  /**
   * People mentioned in an `/agent` command must reach the grammar as the id Quorum knows them by
   * (their AAD object id). Teams' mention entities often carry only the `29:` id: look those up in
   * the roster of the team or chat. A lookup that fails leaves the mention as it is (the command
   * then says it could not look the person up).
   */
  async function withMentionedIds(activity: TeamsActivity): Promise<TeamsActivity> {
    if (!activity.entities?.length || !isCommandText(stripBotMention(activity))) return activity;
    const botId = activity.recipient?.id;
    const reference = TurnContext.getConversationReference(activity as never);
    const roster = { ...reference, conversation: { ...reference.conversation, id: conversationKeyOf(activity) } };
    const entities = await Promise.all(
      activity.entities.map(async (entity) => {
        const mentioned = (entity as { mentioned?: { id?: string; aadObjectId?: string } }).mentioned;
        if (entity.type !== 'mention' || !mentioned?.id || mentioned.aadObjectId || mentioned.id === botId) return entity;
        try {
          const member = await runtime.inConversation(roster, (context) => TeamsInfo.getMember(context, mentioned.id!));
          return member.aadObjectId ? { ...entity, mentioned: { ...mentioned, aadObjectId: member.aadObjectId } } : entity;
        } catch (err) {
          log.warn({ event: 'teams.mention_unresolved', status: (err as { statusCode?: number }).statusCode ?? null }, 'a mentioned person could not be looked up');
          return entity;
        }
      }),
    );
    return { ...activity, entities };
  }

  async function onMessage(activity: TeamsActivity, workspace: WorkspaceRef, tenantId: string): Promise<Outcome> {
    const envelope = envelopeOf(activity, tenantId, new Date());
    if (envelope.kind === 'unsupported') return { status: 200 };
    await saveRoutes(runtime, activity, workspace);
    const result = await intake.submit(envelope);
    if (result.status === 'invalid') {
      log.warn({ event: 'teams.invalid_activity', problems: result.problems }, 'message activity could not be mapped');
      return { status: 400, body: { error: 'invalid activity' } };
    }
    return { status: 200 };
  }

  function addsBot(activity: TeamsActivity): boolean {
    return (activity.membersAdded ?? []).some((m) => m.id === activity.recipient?.id);
  }

  async function onConversationUpdate(context: TurnContext, activity: TeamsActivity, workspace: WorkspaceRef) {
    const botId = activity.recipient?.id;
    const rosterKey = conversationKeyOf(activity);
    const added = (activity.membersAdded ?? []).filter((m) => m.id !== botId);
    const removed = (activity.membersRemoved ?? []).filter((m) => m.id !== botId);
    const ids = (list: typeof added) => list.map((m) => m.aadObjectId).filter((id): id is string => Boolean(id));
    if (added.length + removed.length > 0)
      await invalidation.publish({ kind: 'members', workspace, channelId: rosterKey, added: ids(added), removed: ids(removed) });
    if ((activity.membersRemoved ?? []).some((m) => m.id === botId)) {
      await uninstall(workspace, rosterKey);
      return;
    }
    if (addsBot(activity)) {
      await install(activity, workspace);
      // In a 1:1 chat the welcome offers the suggested prompts (Teams shows suggested actions only there).
      const personal = activity.conversation?.conversationType === 'personal';
      await context.sendActivity({ type: ActivityTypes.Message, text: WELCOME, textFormat: 'markdown', ...(personal ? { suggestedActions: welcomePrompts() } : {}) });
    }
  }

  async function onInstallationUpdate(activity: TeamsActivity, workspace: WorkspaceRef) {
    if (activity.action?.startsWith('remove')) await uninstall(workspace, conversationKeyOf(activity));
    else if (activity.action?.startsWith('add')) await install(activity, workspace);
  }

  async function install(activity: TeamsActivity, workspace: WorkspaceRef) {
    const key = conversationKeyOf(activity);
    await refs.save(workspace, keys.install(key), { at: new Date().toISOString() });
    runtime.forget(workspace, keys.conversation(key));
    await saveRoutes(runtime, activity, workspace);
    tenants.admit(workspace.externalId);
    log.info({ event: 'teams.installed', tenant: workspace.externalId }, 'Quorum installed in a Teams conversation');
  }

  /** Drops the conversation's references: its pending replies are dropped, and nothing more is posted there. */
  async function uninstall(workspace: WorkspaceRef, key: string) {
    const removed = (await refs.remove(workspace, keys.conversation(key))) + (await refs.remove(workspace, keys.install(key)));
    runtime.forget(workspace, keys.conversation(key));
    await invalidation.publish({ kind: 'channel', workspace, channelId: key, state: 'unknown' });
    if (!(await refs.has(workspace, 'install:'))) tenants.evict(workspace.externalId);
    log.info({ event: 'teams.uninstalled', tenant: workspace.externalId, removed }, 'Quorum removed from a Teams conversation');
  }

  return {
    routes: [{ method: 'POST', path: '/api/messages', handler }],
    ports,
    cloudAdapter,
  };
}

/** Everyone's prompts (the role is not known before the first message), as imBack buttons: a pick is sent as the question. */
function welcomePrompts() {
  return { to: [], actions: suggestedPrompts('member', 'chat').map((p) => ({ type: 'imBack', title: p.title, value: p.message })) };
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.slice(0, 100);
  } catch {
    return null;
  }
}

/** A team's Microsoft 365 group id, what Graph knows it by (sent with installation and roster events, not with every message). */
async function rememberTeamGroup(runtime: TeamsRuntime, activity: TeamsActivity, workspace: WorkspaceRef) {
  const groupId = activity.channelData?.team?.aadGroupId;
  if (groupId && conversationKindOf(activity) === 'channel') await runtime.remember(workspace, keys.team(conversationKeyOf(activity)), { groupId });
}

/** Stores what replies, membership and lookups need later; each write is skipped when recently done. */
async function saveRoutes(runtime: TeamsRuntime, activity: TeamsActivity, workspace: WorkspaceRef) {
  const conversationKey = conversationKeyOf(activity);
  const stored = storedConversationOf(activity, conversationKey);
  await runtime.remember(workspace, keys.conversation(conversationKey), stored);
  if (stored.kind === 'channel') {
    const channel = channelRefOf(activity);
    await runtime.remember(workspace, keys.channel(channel.id), { teamId: conversationKey, closed: isClosedChannel(activity) });
    await rememberTeamGroup(runtime, activity, workspace);
  }
  const aad = activity.from?.aadObjectId;
  if (aad && activity.type === ActivityTypes.Message) {
    await runtime.remember(workspace, keys.user(aad), { conversationKey });
    if (stored.kind === 'personal') await runtime.remember(workspace, keys.personal(aad), { conversationKey });
  }
}

/**
 * Which tenants may talk to Quorum. Auth off (local use): any. Otherwise the bot's own tenant
 * (MICROSOFT_APP_TENANT_ID) always; and for MultiTenant/MSI bots, tenants where Quorum was
 * installed (installationUpdate add, or the bot added to a conversation). A SingleTenant bot
 * admits no other tenant, installs included.
 */
function createTenantGate(app: TeamsApp, refs: ConversationRefStore) {
  const known = new LRUCache<string, true>({ max: 10_000, ttl: 5 * 60_000 });
  const homeOnly = app.appType === 'SingleTenant';
  return {
    async allowed(tenantId: string, isInstall: boolean): Promise<boolean> {
      if (!authEnabled(app)) return true;
      if (tenantId === app.tenantId) return true;
      if (homeOnly) return false;
      if (isInstall || known.get(tenantId)) return true;
      const installed = await refs.has(workspaceOf(tenantId), 'install:');
      if (installed) known.set(tenantId, true);
      return installed;
    },
    admit(tenantId: string) {
      known.set(tenantId, true);
    },
    evict(tenantId: string) {
      known.delete(tenantId);
    },
  };
}
