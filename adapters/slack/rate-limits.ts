/**
 * Slack rate-limits per workspace (and per method). WebClient answers a 429 by pausing its whole
 * request queue for Retry-After, and one client serves every workspace: one workspace's limit
 * would stall every other workspace's replies. This client has WebClient reject a rate-limited
 * call at once instead (`rejectRateLimitedCalls`), and waits Retry-After for that call alone
 * before trying it again, at most `rateLimitRetries` times. `apiCall` is WebClient's public entry
 * point: every `client.chat.postMessage(…)` binding goes through it.
 */
import { webApi } from '@slack/bolt';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PerCallRateLimitClient extends webApi.WebClient {
  constructor(
    options: webApi.WebClientOptions,
    private readonly rateLimitRetries: number,
  ) {
    super(undefined, { ...options, rejectRateLimitedCalls: true });
  }

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<webApi.WebAPICallResult> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await super.apiCall(method, options);
      } catch (err) {
        const limited = err as Partial<webApi.WebAPIRateLimitedError>;
        if (limited.code !== webApi.ErrorCode.RateLimitedError || attempt >= this.rateLimitRetries) throw err;
        await sleep((limited.retryAfter ?? 1) * 1000);
      }
    }
  }
}
