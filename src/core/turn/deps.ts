/** What the turn's stages need from the outside, and what a turn answers. */
import type { AgentLimits } from '../agent/orchestrator.js';
import type { ConnectedDeps } from '../agent/connected-call.js';
import type { KnowledgeSearch } from '../knowledge/retrieval.js';
import type { LimitDefaults } from '../commands/format.js';
import type { ConfirmDeps } from '../confirm/park.js';
import type { Platform } from '../envelope.js';
import { QuorumError } from '../errors.js';
import type { AdminStore, AssistantThreads, ConnectionAdmin, FeedbackStore, HomeReads, ToolCredentials } from '../ports.js';
import type { BootstrapAdmin } from '../access/roles.js';
import type { FileDeps } from './files.js';
import type { AgentStore, AuditExporter, AuditLog, Logger, ModelCatalog, ModelGate, PlatformPorts, ProfileStore, TurnStore } from '../ports.js';

export interface CoreDeps {
  turns: TurnStore;
  audit: AuditLog;
  model: ModelGate;
  /** The model name shown in `status`. */
  modelName: string;
  /** The limits a workspace without its own settings gets, shown in `status`. */
  limitDefaults?: LimitDefaults;
  platforms: Partial<Record<Platform, PlatformPorts>>;
  log: Logger;
  /** How many earlier messages of the conversation the prompt may hold. */
  historyLimit?: number;
  /** Turns with tools (src/core/agent): the orchestrator answers at once when it delegates nothing. */
  agent: { store: AgentStore; limits?: Partial<AgentLimits>; knowledge?: KnowledgeSearch | undefined; connected?: ConnectedDeps | undefined; confirm?: ConfirmDeps };
  /** Connected tools' administration (`/agent connect|disconnect|connections`, connected-tool rules); absent: not available. */
  connections?: ConnectionAdmin | undefined;
  /** Whose own accounts are linked to per-user connections (`/agent connections`, the Home); absent: not shown. */
  toolCredentials?: ToolCredentials | undefined;
  /** Settings, grants, tool rules and erasure for `/agent` commands (src/db/admin-store.ts). */
  admin?: AdminStore;
  /** The models operators allow (MODEL_CHOICES) and the defaults; absent: the gate picks by tier. */
  models?: ModelCatalog;
  /** Model choices and instructions per workspace and channel (`/agent model`, `/agent instructions`). */
  profiles?: ProfileStore;
  /** `/agent audit export`: the workspace's audit trail as a verifiable file. */
  auditExport?: AuditExporter;
  /** Ratings of answers (`/agent feedback`); absent: the command says it is not available. */
  feedback?: FeedbackStore;
  /** QUORUM_ADMINS: admins by the operator's word, whatever the platform says. */
  bootstrapAdmins?: readonly BootstrapAdmin[];
  /** Usage and channel rules for the per-person Home (src/db/home-store.ts); the Home omits what it cannot read. */
  home?: HomeReads;
  /** Slack assistant threads: the channel each was opened from. */
  assistantThreads?: AssistantThreads;
  /** Reading the files of a turn (src/files, FILE_MAX_BYTES); absent: files are named as skipped. */
  files?: FileDeps;
}

export interface TurnResult {
  /** The platform's id of the posted reply; null when nothing was posted (a deleted user). */
  platformMessageId: string | null;
}

export function portsFor(deps: CoreDeps, platform: Platform): PlatformPorts {
  const ports = deps.platforms[platform];
  if (!ports) throw new QuorumError('NO_PLATFORM', `no adapter is running for ${platform}`);
  return ports;
}
