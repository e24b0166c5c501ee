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

export function createKnowledgeSearch(store: KnowledgeStore, embedder: Embedder | null, log: Logger): KnowledgeSearch {
  return {
    async search(scope, query) {
      let embedding: number[] | null = null;
      if (embedder) {
        try {
          embedding = (await embedder.embed([query.text]))[0] ?? null;
        } catch (err) {
          // Full text still answers; the embedding model's trouble is logged, never the query.
          log.warn({ event: 'knowledge.embed_failed', err: (err as Error).message.slice(0, 200) }, 'query not embedded; full text only');
        }
      }
      return store.search(scope, { ...query, embedding });
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
