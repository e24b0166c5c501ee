/**
 * Fairness end to end, through /slack/events: the real service (a child process, PostgreSQL, the
 * default limits: 300 rpm and 4 calls at once per workspace, WORKER_CONCURRENCY as given), a
 * model answering in 300 ms (a fake OpenAI-compatible server in this process), the fake Slack.
 * A quiet workspace sends FAIR_QUIET_RATE DMs a second for FAIR_SECONDS, alone, then again while
 * another workspace floods at 10× its limit (50/s against 300 rpm). Prints the quiet workspace's
 * event-to-reply p50/p99 in both runs (target: p99 with the flood ≤ 1.5× alone), and how much of
 * the flood was answered and told to wait. Needs DATABASE_URL (skips otherwise).
 * FAIR_WORKERS sets WORKER_CONCURRENCY (default: the service's own, 32; try 8).
 */
import { Agent, request } from 'undici';
import { FakeOpenAIServer } from '../test/fakes/openai-server.js';
import { FakeSlackApi } from '../test/fakes/slack-api.js';
import { startChild, type Child } from '../test/support/child.js';
import { answersByEvent, fleetEnv, installFleet, signedDm } from '../test/support/slack-fleet.js';
import { fmt, freshPostgres, summarize, print } from './_support.js';

const QUIET = 1;
const FLOOD = 0;
/** WORKSPACE_RPM's default is 300 a minute: 5 a second; ten times that. */
const FLOOD_RATE = 50;
const MODEL_MS = 300;

interface Sent {
  at: Map<string, number>;
  failures: number;
}

/** Sends `rate` DMs a second from workspace `w` for `seconds`, labelled `label-n`. */
async function sendAt(port: number, dispatcher: Agent, w: number, label: string, rate: number, seconds: number, sent: Sent): Promise<void> {
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < rate * seconds; n++) {
    const wait = started + (n * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const { body, headers } = signedDm(w, n, label);
    sent.at.set(`${label}-${n}`, performance.now());
    inFlight.push(
      request(`http://127.0.0.1:${port}/slack/events`, { method: 'POST', dispatcher, headers, body }).then(
        async (res) => {
          await res.body.dump();
          if (res.statusCode !== 200) sent.failures++;
        },
        () => void sent.failures++,
      ),
    );
  }
  await Promise.all(inFlight);
}

/** Waits (bounded) for every reply to `label`, and summarizes event-to-reply. */
async function repliesOf(api: FakeSlackApi, label: string, sent: Sent, boundMs: number) {
  const deadline = performance.now() + boundMs;
  let found = answersByEvent(api, label);
  while (found.answers.size < sent.at.size - sent.failures && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    found = answersByEvent(api, label);
  }
  const latencies = [...found.answers].map(([key, at]) => at - sent.at.get(key)!);
  return { ...summarize(latencies), replies: found.answers.size, duplicated: found.duplicated };
}

export async function run(): Promise<void> {
  const base = process.env.DATABASE_URL;
  if (!base) {
    print('fairness: skipped (set DATABASE_URL)');
    return;
  }
  const seconds = Number(process.env.FAIR_SECONDS ?? 20);
  const quietRate = Number(process.env.FAIR_QUIET_RATE ?? 2);
  const model = await new FakeOpenAIServer((req) => {
    const label = /(quiet\w*|flood)-\d+/.exec(req.text)?.[0] ?? 'unknown';
    return { kind: 'answer', delayMs: MODEL_MS, text: `Offline model stand-in answering "${label}"` };
  }).start();
  const api = await new FakeSlackApi().start();
  const { url, drop } = await freshPostgres(base, `quorum_fair_${process.pid}`);
  await installFleet(url, api, 2);
  let child: Child | null = null;
  const dispatcher = new Agent({ connections: 32 });
  try {
    child = startChild({
      ...fleetEnv(api),
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATA_DIR: `/tmp/quorum-fair-${process.pid}`,
      DATABASE_URL: url,
      MODEL_PROVIDER: 'openai',
      MODEL_BASE_URL: model.baseUrl,
      MODEL_API_KEY: 'bench-key',
      SHUTDOWN_GRACE_MS: '500',
      ...(process.env.FAIR_WORKERS ? { WORKER_CONCURRENCY: process.env.FAIR_WORKERS } : {}),
    });
    const port = Number(new URL(await child.ready()).port);
    // Warm-up (not counted).
    const warm: Sent = { at: new Map(), failures: 0 };
    await sendAt(port, dispatcher, QUIET, 'quietwarm', 5, 1, warm);
    await repliesOf(api, 'quietwarm', warm, 30_000);

    const alone: Sent = { at: new Map(), failures: 0 };
    await sendAt(port, dispatcher, QUIET, 'quietalone', quietRate, seconds, alone);
    const a = await repliesOf(api, 'quietalone', alone, 60_000);

    const flooded: Sent = { at: new Map(), failures: 0 };
    const flood: Sent = { at: new Map(), failures: 0 };
    // The flood starts first: its backlog is there before the quiet workspace's first message.
    const flooding = sendAt(port, dispatcher, FLOOD, 'flood', FLOOD_RATE, seconds + 1, flood);
    await new Promise((r) => setTimeout(r, 1_000));
    await sendAt(port, dispatcher, QUIET, 'quietflooded', quietRate, seconds, flooded);
    await flooding;
    const f = await repliesOf(api, 'quietflooded', flooded, 60_000);
    const floodAnswered = answersByEvent(api, 'flood').answers.size;
    const told = api.calls.filter((c) => c.method === 'chat.postMessage' && (c.params.text ?? '').includes('Busy right now') && c.token === `xoxb-fleet-${FLOOD}`).length;

    const workers = process.env.FAIR_WORKERS ?? '32 (default)';
    print(`fairness end to end (/slack/events, PostgreSQL, model ${MODEL_MS} ms, default limits, WORKER_CONCURRENCY ${workers}):`);
    print(`  quiet alone:        ${quietRate}/s for ${seconds} s, event→reply p50 ${fmt(a.p50)} p99 ${fmt(a.p99)} (replies ${a.replies}/${alone.at.size}, duplicated ${a.duplicated}, failed ${alone.failures})`);
    print(`  quiet with a flood: event→reply p50 ${fmt(f.p50)} p99 ${fmt(f.p99)} (replies ${f.replies}/${flooded.at.size}, duplicated ${f.duplicated}, failed ${flooded.failures})`);
    print(`  p99 ratio ${(f.p99 / a.p99).toFixed(2)}× (target ≤ 1.5×)`);
    print(`  flood: ${flood.at.size} events at ${FLOOD_RATE}/s (10× its 300 rpm), answered so far ${floodAnswered}, senders told they wait ${told}, failed acks ${flood.failures}`);
  } finally {
    await dispatcher.close();
    if (child) {
      child.kill('SIGTERM');
      await child.exited;
    }
    await api.stop();
    await model.stop();
    await drop();
  }
}
