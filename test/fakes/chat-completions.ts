/** A minimal OpenAI-compatible /v1/chat/completions server on 127.0.0.1 that answers after a delay. */
import { createServer, type Server } from 'node:http';

export interface FakeChat {
  url: string;
  /** How many requests arrived. */
  requests(): number;
  close(): Promise<void>;
}

/** `answer` makes the reply from the last message (default: `answer to: <last message>`). */
export async function startFakeChat(delayMs: number, answer: (last: string) => string = (last) => `answer to: ${last}`): Promise<FakeChat> {
  let count = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      count++;
      const messages = (JSON.parse(body || '{}') as { messages?: { content: string }[] }).messages ?? [];
      const last = messages.at(-1)?.content ?? '';
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `c${count}`,
            object: 'chat.completion',
            created: 1,
            model: 'fake-chat',
            choices: [{ index: 0, message: { role: 'assistant', content: answer(last) }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 },
          }),
        );
      }, delayMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1`,
    requests: () => count,
    close: () =>
      new Promise((r) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
