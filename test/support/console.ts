/** Speaks to a running app through the console's HTTP entry point (POST /console/api/messages) as a demo user. */
import { expect } from 'vitest';
import { postJson, type TestApp } from './app.js';

export interface ConsoleReply {
  kind: string;
  text: string;
  private: boolean;
}

/** `app` is a getter so that the helpers can be made before the app is started in beforeAll. */
export function consoleSpeaker(app: () => TestApp) {
  async function say(user: string, text: string, channel = 'general'): Promise<ConsoleReply> {
    const res = await postJson(`${app().baseUrl}/console/api/messages`, { user, channel, text });
    expect(res.status).toBe(200);
    return res.body.reply as ConsoleReply;
  }
  /** A command's answer: always a notice for the caller alone. */
  async function command(user: string, text: string, channel = 'general'): Promise<string> {
    const reply = await say(user, text, channel);
    expect(reply).toMatchObject({ kind: 'notice', private: true });
    return reply.text;
  }
  return { say, command };
}
