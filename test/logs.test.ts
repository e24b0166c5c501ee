/** Logs are structured JSON and never carry a token, a secret or message content. */
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { startTestApp, postJson, type TestApp } from './support/app.js';
import { drivers, openTestDatabase, type TestDatabase } from './support/db.js';
import { waitFor } from './support/wait.js';

const PLANTED = {
  MODEL_API_KEY: 'sk-planted-model-key-0123456789',
  QUORUM_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};
const CONTENT = 'planted-content-canary-9f2c';

describe.each(drivers)('logs (%s)', (driver) => {
  let db: TestDatabase;
  let app: TestApp;
  let model: Server;
  const lines: string[] = [];

  beforeAll(async () => {
    let calls = 0;
    // Fails once (so errors are logged), then answers.
    model = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls++;
        if (calls === 1) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `upstream failed for ${CONTENT}` } }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'c1',
            object: 'chat.completion',
            created: 1,
            model: 'fake',
            choices: [{ index: 0, message: { role: 'assistant', content: `answer about ${CONTENT}` }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
          }),
        );
      });
    });
    await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    db = await openTestDatabase(driver);
    app = await startTestApp(db, {
      log: createLogger('debug', sink),
      env: {
        ...PLANTED,
        MODEL_PROVIDER: 'openai',
        MODEL_BASE_URL: `http://127.0.0.1:${(model.address() as { port: number }).port}/v1`,
      },
    });
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
    await new Promise((r) => model?.close(r));
  });

  it('carry no planted secret and no message content, and are JSON with an event name', async () => {
    await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'general', text: `first ${CONTENT}` });
    await postJson(`${app.baseUrl}/console/api/messages`, { user: 'cleo', channel: 'dm', text: `second ${CONTENT}` });
    // turn.done is logged after the reply is posted, so it can trail the HTTP answer a little.
    await waitFor(() => lines.filter((l) => l.includes('"event":"turn.done"')).length >= 2);
    expect(lines.length).toBeGreaterThan(3);
    const all = lines.join('\n');
    for (const secret of Object.values(PLANTED)) expect(all).not.toContain(secret);
    expect(all).not.toContain(CONTENT);
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed.level).toBeTypeOf('string');
    }
    expect(all).toContain('"event":"model.failed"');
    expect(all).toContain('"event":"turn.done"');
  });
});
