/**
 * Libraries print with console.* (botbuilder logs token validation failures with console.error,
 * key material included). While Quorum runs, every such line goes to the service logger instead:
 * one JSON line like any other (event `library.console`), its text scrubbed of anything that looks
 * like a credential, and the logger's level and redaction apply.
 */
import { format } from 'node:util';
import type { Logger } from './core/ports.js';
import { scrubText } from './core/redact.js';

const LEVELS = { log: 'info', info: 'info', debug: 'debug', trace: 'debug', warn: 'warn', error: 'error' } as const;
type Method = keyof typeof LEVELS;

const loggers: Logger[] = [];
let originals: Partial<Record<Method, (...args: unknown[]) => void>> | null = null;

/**
 * Sends console.* to `log` until the returned function is called. Nested captures (several
 * instances in one process) use the latest logger; the console is restored when the last ends.
 */
export function captureConsole(log: Logger): () => void {
  if (!originals) {
    originals = {};
    for (const method of Object.keys(LEVELS) as Method[]) {
      originals[method] = console[method];
      console[method] = (...args: unknown[]) => {
        const current = loggers[loggers.length - 1];
        const line = scrubText(format(...args)).slice(0, 2_000);
        current?.[LEVELS[method]]({ event: 'library.console' }, line);
      };
    }
  }
  loggers.push(log);
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    loggers.splice(loggers.lastIndexOf(log), 1);
    if (loggers.length === 0 && originals) {
      for (const method of Object.keys(LEVELS) as Method[]) console[method] = originals[method] as never;
      originals = null;
    }
  };
}
