import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('runs on defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', DATA_DIR: './.quorum', MODEL_PROVIDER: 'offline', QUORUM_ADMINS: [] });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable in one message', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'not a url',
      MODEL_PROVIDER: 'skynet',
      QUORUM_ADMINS: 'slack:T1:U1,bogus',
      QUORUM_ENCRYPTION_KEY: 'c2hvcnQ=',
      WORKSPACE_RPM: '-5',
    });
    const named = problems.map((p) => p.split(':')[0]);
    expect(named.sort()).toEqual(
      ['DATABASE_URL', 'LOG_LEVEL', 'MODEL_PROVIDER', 'PORT', 'QUORUM_ADMINS', 'QUORUM_ENCRYPTION_KEY', 'WORKSPACE_RPM'].sort(),
    );
    expect(problems.find((p) => p.startsWith('QUORUM_ADMINS'))).toContain('"bogus"');
  });

  it('never echoes a secret value', () => {
    const secretKey = 'dG9vLXNob3J0LXNlY3JldC12YWx1ZQ==';
    const err = (() => {
      try {
        loadConfig({ QUORUM_ENCRYPTION_KEY: secretKey, MODEL_PROVIDER: 'anthropic', MICROSOFT_APP_ID: 'app', SLACK_CLIENT_ID: 'x' });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.message).not.toContain(secretKey);
    expect(err.problems.join('\n')).toMatch(/QUORUM_ENCRYPTION_KEY: must be 32 bytes/);
    expect(err.problems.join('\n')).toMatch(/MODEL_API_KEY: required when MODEL_PROVIDER is anthropic/);
    expect(err.problems.join('\n')).toMatch(/MICROSOFT_APP_PASSWORD/);
    expect(err.problems.join('\n')).toMatch(/SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET/);
  });

  it('requires the encryption key in production', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['QUORUM_ENCRYPTION_KEY: required when NODE_ENV is production']);
  });

  it('parses bootstrap admins and the price table', () => {
    const config = loadConfig({ QUORUM_ADMINS: 'slack:T0123:U0456, teams:tenant-1:aad-2', MODEL_PRICES: '{"m":{"input":1,"output":2}}' });
    expect(config.QUORUM_ADMINS).toEqual([
      { platform: 'slack', workspace: 'T0123', user: 'U0456' },
      { platform: 'teams', workspace: 'tenant-1', user: 'aad-2' },
    ]);
    expect(config.MODEL_PRICES).toEqual({ m: { input: 1, output: 2 } });
  });
});
