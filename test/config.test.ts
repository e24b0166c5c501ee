import { describe, expect, it } from 'vitest';
import { ConfigError, fallbackEndpoint, loadConfig } from '../src/config.js';

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const problemsOf = (env: Record<string, string>): string[] => configErrorOf(env).problems;
const problemsOrNone = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

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
    const err = configErrorOf({ QUORUM_ENCRYPTION_KEY: secretKey, MODEL_PROVIDER: 'anthropic', MICROSOFT_APP_ID: 'app', SLACK_CLIENT_ID: 'x' });
    expect(err.message).not.toContain(secretKey);
    expect(err.problems.join('\n')).toMatch(/QUORUM_ENCRYPTION_KEY: must be 32 bytes/);
    expect(err.problems.join('\n')).toMatch(/MODEL_API_KEY: required when MODEL_PROVIDER is anthropic/);
    expect(err.problems.join('\n')).toMatch(/MICROSOFT_APP_PASSWORD/);
    expect(err.problems.join('\n')).toMatch(/SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET/);
  });

  it('requires the encryption key in production', () => {
    expect(problemsOf({ NODE_ENV: 'production', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' })).toEqual(['QUORUM_ENCRYPTION_KEY: required when NODE_ENV is production']);
  });

  it('refuses production with no platform configured (no console there: nothing could reach Quorum)', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    expect(problemsOf({ NODE_ENV: 'production', QUORUM_ENCRYPTION_KEY: key })).toEqual([expect.stringMatching(/^no platform is configured: .*SLACK_BOT_TOKEN.*MICROSOFT_APP_ID/)]);
    const platforms: Record<string, string>[] = [
      { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' },
      { SLACK_CLIENT_ID: 'c', SLACK_CLIENT_SECRET: 's', SLACK_STATE_SECRET: 't', SLACK_SIGNING_SECRET: 's' },
      { MICROSOFT_APP_ID: 'a', MICROSOFT_APP_PASSWORD: 'p', MICROSOFT_APP_TENANT_ID: 't' },
    ];
    for (const platform of platforms)
      expect(problemsOrNone({ NODE_ENV: 'production', QUORUM_ENCRYPTION_KEY: key, ...platform })).toEqual([]);
    // Outside production the console is a platform of its own.
    expect(problemsOrNone({})).toEqual([]);
  });

  describe('a fallback model on another provider', () => {
    const fallbackKey = 'sk-ant-fallback-never-echoed-5e1f';

    it('takes its provider, URL and key from MODEL_FALLBACK_*; the main key never carries over to another provider', () => {
      const config = loadConfig({
        MODEL_PROVIDER: 'openai',
        MODEL_BASE_URL: 'http://127.0.0.1:11434/v1',
        MODEL_API_KEY: 'main-key',
        MODEL_FALLBACK_NAME: 'claude-sonnet-4-5',
        MODEL_FALLBACK_PROVIDER: 'anthropic',
        MODEL_FALLBACK_API_KEY: fallbackKey,
      });
      expect(fallbackEndpoint(config)).toEqual({ provider: 'anthropic', baseUrl: undefined, apiKey: fallbackKey });
      expect(problemsOf({ MODEL_PROVIDER: 'openai', MODEL_API_KEY: 'main-key', MODEL_FALLBACK_NAME: 'c', MODEL_FALLBACK_PROVIDER: 'anthropic' })).toEqual([
        'MODEL_FALLBACK_API_KEY: required when the fallback provider is anthropic',
      ]);
    });

    it('defaults to the main provider, its URL and its key', () => {
      const config = loadConfig({ MODEL_PROVIDER: 'openai', MODEL_BASE_URL: 'http://127.0.0.1:11434/v1', MODEL_API_KEY: 'k', MODEL_FALLBACK_NAME: 'small' });
      expect(fallbackEndpoint(config)).toEqual({ provider: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', apiKey: 'k' });
      expect(fallbackEndpoint(loadConfig({}))).toBeNull();
    });

    it('names an OpenAI fallback with neither key nor URL, and says a main problem once', () => {
      expect(problemsOf({ MODEL_PROVIDER: 'anthropic', MODEL_API_KEY: 'k', MODEL_FALLBACK_NAME: 'gpt-4o', MODEL_FALLBACK_PROVIDER: 'openai' })).toEqual([
        'MODEL_FALLBACK_API_KEY: required for the OpenAI API (or set MODEL_FALLBACK_BASE_URL for a local OpenAI-compatible server)',
      ]);
      // Same provider, same endpoint: the fallback's missing key is the main's, named once.
      expect(problemsOf({ MODEL_PROVIDER: 'anthropic', MODEL_FALLBACK_NAME: 'claude-haiku-4-5' })).toEqual([
        'MODEL_API_KEY: required when MODEL_PROVIDER is anthropic',
      ]);
    });

    it('wants MODEL_FALLBACK_NAME, the switch, when other fallback variables are set', () => {
      expect(problemsOf({ MODEL_FALLBACK_PROVIDER: 'anthropic', MODEL_FALLBACK_API_KEY: fallbackKey })).toEqual([
        'MODEL_FALLBACK_NAME: required with MODEL_FALLBACK_PROVIDER, MODEL_FALLBACK_API_KEY (it names the fallback model and turns the fallback on)',
      ]);
    });

    it('names every bad fallback variable in one message and never echoes the key', () => {
      const err = configErrorOf({
        MODEL_FALLBACK_NAME: 'x',
        MODEL_FALLBACK_PROVIDER: 'skynet',
        MODEL_FALLBACK_BASE_URL: 'not a url',
        MODEL_FALLBACK_API_KEY: fallbackKey,
        PORT: 'eighty',
      });
      expect(err.problems.map((p) => p.split(':')[0]).sort()).toEqual(['MODEL_FALLBACK_BASE_URL', 'MODEL_FALLBACK_PROVIDER', 'PORT']);
      expect(err.message).not.toContain(fallbackKey);
      expect(err.message).not.toContain('skynet');
    });
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
