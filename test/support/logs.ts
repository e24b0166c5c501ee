/** A real (pino) logger whose JSON lines are kept in `lines`, for tests that assert on logs. */
import { Writable } from 'node:stream';
import type { Logger } from '../../src/core/ports.js';
import { createLogger } from '../../src/log.js';

export function logInto(lines: string[], level = 'info'): Logger {
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return createLogger(level, sink);
}
