/**
 * Files Quorum hands a console user (`/agent audit export`): kept in memory, bounded, behind an
 * unguessable link that only that user's download may use (`?user=`). The console is loopback only.
 */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { OutgoingFile, PlatformPorts } from '../../src/core/ports.js';
import { HttpError, type Route } from '../../src/http/server.js';

const PREFIX = '/console/files/';

export function consoleFiles(knownUser: (id: string) => boolean): { sendFile: NonNullable<PlatformPorts['sendFile']>; route: Route } {
  const files = new LRUCache<string, OutgoingFile & { user: string }>({ max: 50, ttl: 60 * 60_000 });
  return {
    async sendFile(_workspace, userId, file) {
      if (!knownUser(userId)) return { kind: 'unreachable' };
      const id = randomBytes(16).toString('hex');
      files.set(id, { ...file, user: userId });
      return { kind: 'link', url: `${PREFIX}${id}?user=${encodeURIComponent(userId)}` };
    },
    route: {
      method: 'GET',
      path: `${PREFIX}*`,
      handler: (req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const file = files.get(url.pathname.slice(PREFIX.length));
        if (!file || file.user !== url.searchParams.get('user')) throw new HttpError(404, 'no such file (links last an hour)');
        res.writeHead(200, {
          'content-type': 'application/jsonl; charset=utf-8',
          'content-disposition': `attachment; filename="${file.name.replace(/[^\w.-]/g, '_')}"`,
          'x-content-type-options': 'nosniff',
        });
        res.end(file.content);
      },
    },
  };
}
