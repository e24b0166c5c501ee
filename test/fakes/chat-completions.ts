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
      const request = JSON.parse(body || '{}') as { messages?: { content: string }[]; stream?: boolean };
      const last = request.messages?.at(-1)?.content ?? '';
      const timer = setTimeout(() => {
        timers.delete(timer);
        const text = answer(last);
        const usage = { prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 };
        if (request.stream) {
          // Where the platform streams answers (the console, Slack threads), the call streams too.
          const chunk = (choices: unknown[], extra = {}) => `data: ${JSON.stringify({ id: `c${count}`, object: 'chat.completion.chunk', created: 1, model: 'fake-chat', choices, ...extra })}\n\n`;
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.end(
            chunk([{ index: 0, delta: { role: 'assistant', content: text }, finish_reason: null }]) +
              chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]) +
              chunk([], { usage }) +
              'data: [DONE]\n\n',
          );
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `c${count}`,
            object: 'chat.completion',
            created: 1,
            model: 'fake-chat',
            choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
            usage,
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
