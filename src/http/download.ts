/**
 * One bounded download, shared by the adapters that read files for a turn: never more than
 * `maxBytes` read (a Content-Length over it is refused before the body, a body that grows past it
 * is cut off), never a redirect followed (a credential stays with the host it was meant for), a
 * deadline on the whole read. Failures are values with a short reason, never the URL or a token.
 */

export type Download =
  | { kind: 'ok'; bytes: Uint8Array; contentType: string }
  | { kind: 'too_large'; size: number | null }
  | { kind: 'failed'; reason: string };

export interface DownloadOptions {
  headers?: Record<string, string>;
  maxBytes: number;
  timeoutMs?: number;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

export async function downloadBounded(url: string, options: DownloadOptions): Promise<Download> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { headers: options.headers ?? {}, redirect: 'manual', signal });
  } catch {
    return { kind: 'failed', reason: signal.aborted ? 'the download timed out' : 'the file host did not answer' };
  }
  if (response.status >= 300 && response.status < 400) return discard(response, 'the file host redirected the download');
  if (!response.ok) return discard(response, `the file host answered HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel().catch(() => {});
    return { kind: 'too_large', size: declared };
  }
  const contentType = response.headers.get('content-type') ?? '';
  try {
    const bytes = await readAtMost(response, options.maxBytes);
    return bytes ? { kind: 'ok', bytes, contentType } : { kind: 'too_large', size: null };
  } catch {
    return { kind: 'failed', reason: signal.aborted ? 'the download timed out' : 'the download broke off' };
  }
}

/** The body, or null once it passes `maxBytes` (the rest is not read). */
async function readAtMost(response: Response, maxBytes: number): Promise<Uint8Array | null> {
  if (!response.body) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

async function discard(response: Response, reason: string): Promise<Download> {
  await response.body?.cancel().catch(() => {});
  return { kind: 'failed', reason };
}
