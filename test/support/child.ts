/** Runs the real service as a child process (what `npm start` runs), as an operator would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

export interface Child {
  process: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves with the console URL once the service says it is up. */
  ready(timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

/** What `npm start` runs; `npm run start:prod` runs the compiled build instead (COMPILED_ENTRY). */
export const SOURCE_ENTRY = ['--import', 'tsx', 'src/main.ts'];
export const COMPILED_ENTRY = ['dist/src/main.js'];

/** `nodeArgs` go before the entry (a benchmark's `--cpu-prof`). */
export function startChild(env: Record<string, string>, nodeArgs: string[] = [], entry = SOURCE_ENTRY): Child {
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    process: child,
    output: () => out,
    exited,
    ready: (timeoutMs = 90_000) =>
      new Promise((resolveReady, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready in ${timeoutMs} ms:\n${out}`)), timeoutMs);
        const check = () => {
          const m = /"event":"service.started","port":(\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            child.stdout!.off('data', check);
            resolveReady(`http://127.0.0.1:${m[1]}`);
          }
        };
        child.stdout!.on('data', check);
        void exited.then((code) => reject(new Error(`exited with ${code} before ready:\n${out}`)));
        check();
      }),
    kill: (signal = 'SIGTERM') => child.kill(signal),
  };
}

/**
 * Instances a crash test starts and SIGKILLs, on one database: a short lease (a killed
 * instance's rows come back within 3 s) and no per-workspace model limits.
 */
export function crashFleet(name: string) {
  const children: Child[] = [];
  return {
    start(n: number, env: Record<string, string>): Child {
      const child = startChild({
        DATA_DIR: `/tmp/quorum-${name}-${process.pid}-${n}`,
        INBOX_LEASE_MS: '3000',
        WORKSPACE_RPM: '100000',
        WORKSPACE_CONCURRENCY: '16',
        ...env,
      });
      children.push(child);
      return child;
    },
    /** SIGKILLs every instance started so far and waits for them to be gone. */
    async killAll(): Promise<void> {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map((c) => c.exited));
    },
  };
}
