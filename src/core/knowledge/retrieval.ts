/**
 * Finding knowledge again for one requester: full text always, plus vector similarity when an
 * embedding model is configured and the database has pgvector. Which channels may be read (and
 * whose DMs) is decided by the caller from the audience rule and live membership, and goes into
 * the query as parameters: nothing is fetched that would have to be filtered away afterwards.
 */
import type { ChannelKnowledge, Embedder, FoundChunk, KnowledgeQuery, KnowledgeStore, Logger } from '../ports.js';
import type { ChannelKind } from '../envelope.js';
import type { Scope } from '../identity.js';

export interface KnowledgeSearch {
  search(scope: Scope, query: Omit<KnowledgeQuery, 'embedding'>): Promise<FoundChunk[]>;
  /** Channels with knowledge, for a DM search to check membership of. */
  channels(scope: Scope, limit: number): Promise<{ externalId: string; kind: ChannelKind }[]>;
  /** Per channel: what is indexed and how far its backfill is (`/agent knowledge`). */
  status(scope: Scope, limit: number): Promise<ChannelKnowledge[]>;
}

/** After the embedding model failed a search, searches are full text alone this long (a turn must not wait on a broken endpoint). */
const QUERY_EMBED_PAUSE_MS = 30_000;

export function createKnowledgeSearch(store: KnowledgeStore, embedder: Embedder | null, log: Logger): KnowledgeSearch {
  let pausedUntil = 0;
  async function embed(text: string): Promise<number[] | null> {
    if (!embedder || Date.now() < pausedUntil) return null;
    try {
      return (await embedder.embed([text], 'query'))[0] ?? null;
    } catch (err) {
      pausedUntil = Date.now() + QUERY_EMBED_PAUSE_MS;
      // Full text still answers; the embedding model's trouble is logged, never the query.
      log.warn({ event: 'knowledge.embed_failed', use: 'query', err: (err as Error).message.slice(0, 200) }, 'query not embedded; full text only');
      return null;
    }
  }
  return {
    async search(scope, query) {
      return store.search(scope, { ...query, embedding: await embed(query.text) });
    },
    channels: (scope, limit) => store.channels(scope, limit),
    status: (scope, limit) => store.status(scope, limit),
  };
}

const EXCERPT = 500;

/** One line per chunk, with where it came from and the link to cite. */
export function knowledgeLines(chunks: FoundChunk[]): string[] {
  return chunks.map((c) => {
    const text = c.content.length > EXCERPT ? `${c.content.slice(0, EXCERPT)}…` : c.content;
    const where = c.channelKind === 'dm' ? 'your DM' : `#${c.channelExternalId}`;
    const who = c.authorId ? `<@${c.authorId}>` : 'someone';
    const what = c.sourceKind === 'file' ? 'file' : 'message';
    return `- [${c.at.toISOString().slice(0, 16)} ${where}] ${who} (${what}): ${text}${c.permalink ? ` — source: ${c.permalink}` : ''}`;
  });
}
