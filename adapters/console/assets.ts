/**
 * The console page's static files: its own script and style, and the Markdown renderer and
 * sanitizer from node_modules (the machine may have no internet, so nothing comes from a CDN).
 * Only the files named here are served; the request path never reaches the file system.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HttpError, type Route } from '../../src/http/server.js';

const JS = 'text/javascript; charset=utf-8';
const require = createRequire(import.meta.url);
/** A file beside a package's main file (DOMPurify's ES module sits beside its CommonJS one). */
const beside = (pkg: string, file: string) => new URL(file, pathToFileURL(require.resolve(pkg)));

const files: Record<string, { url: URL | string; type: string }> = {
  'console.js': { url: new URL('./assets/console.js', import.meta.url), type: JS },
  'render.js': { url: new URL('./assets/render.js', import.meta.url), type: JS },
  'console.css': { url: new URL('./assets/console.css', import.meta.url), type: 'text/css; charset=utf-8' },
  // Both are ES modules with no imports of their own.
  'marked.js': { url: beside('marked', './marked.esm.js'), type: JS },
  'purify.js': { url: beside('dompurify', './purify.es.mjs'), type: JS },
};

export const ASSETS_PREFIX = '/console/assets/';

export function assetRoute(): Route {
  const cache = new Map<string, Buffer>();
  return {
    method: 'GET',
    path: `${ASSETS_PREFIX}*`,
    handler: async (req, res) => {
      const name = (req.url ?? '').split('?')[0]!.slice(ASSETS_PREFIX.length);
      const file = Object.hasOwn(files, name) ? files[name]! : null;
      if (!file) throw new HttpError(404, 'not found');
      let body = cache.get(name);
      if (!body) {
        body = await readFile(fileURLToPath(file.url));
        cache.set(name, body);
      }
      res.writeHead(200, { 'content-type': file.type, 'content-length': body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.end(body);
    },
  };
}
