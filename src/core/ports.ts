/**
 * The interfaces the core needs from the outside world. Adapters implement the platform ports
 * (membership, directory, replies); src/db implements the stores; src/model implements the gate;
 * src/bus the invalidation bus. One file per capability under ports/; this file gathers them.
 */
export type * from './ports/admin.js';
export type * from './ports/feedback.js';
export type * from './ports/home.js';
export type * from './ports/files.js';
export type * from './ports/invalidation.js';
export type * from './ports/model.js';
export type * from './ports/platform.js';
export type * from './ports/profiles.js';
export type * from './ports/records.js';
export type * from './ports/stores.js';
export type * from './ports/tools.js';
export type { Platform } from './envelope.js';
export type { Role } from './identity.js';
export type * from './ports/confirmations.js';
export type * from './ports/knowledge.js';
