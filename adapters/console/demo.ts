/** The demo workspace the console talks in: users, roles, channels and members from a file. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { roleSchema } from '../../src/core/identity.js';

export const demoSchema = z.object({
  workspace: z.object({ id: z.string().min(1), name: z.string() }),
  users: z.array(z.object({ id: z.string().regex(/^[a-z0-9_-]+$/), name: z.string(), role: roleSchema })).min(1),
  channels: z.array(z.object({ id: z.string().regex(/^[a-z0-9_-]+$/), name: z.string(), members: z.array(z.string()) })),
});
export type Demo = z.infer<typeof demoSchema>;

export const defaultDemoFile = new URL('./demo.json', import.meta.url);

export function loadDemo(file: URL | string = defaultDemoFile): Demo {
  return demoSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** Each user's DM with the bot has its own channel id. */
export function dmChannelId(userId: string): string {
  return `dm-${userId}`;
}
