/** Codes for the unexpected. Expected outcomes (a denial, a duplicate, a refused model call) are values, not errors. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'DATA_DIR_LOCKED'
  | 'DATABASE_UNAVAILABLE'
  | 'MEMBERSHIP_UNAVAILABLE'
  | 'DIRECTORY_UNAVAILABLE'
  | 'HISTORY_UNAVAILABLE'
  | 'MODEL_FAILED'
  | 'REPLY_FAILED'
  | 'NO_PLATFORM'
  | 'INVALID_ENVELOPE'
  | 'UNKNOWN_WORKSPACE'
  | 'TOOL_ADDRESS_REFUSED'
  | 'TOOLS_FILE_INVALID';

export class QuorumError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'QuorumError';
  }
}

export function isQuorumError(err: unknown, code?: ErrorCode): err is QuorumError {
  return err instanceof QuorumError && (code === undefined || err.code === code);
}
