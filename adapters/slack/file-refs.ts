/** The files of Slack messages (events, history) as the core's refs: only what names them; files.info says the rest when one is read. */
import { z } from 'zod';
import type { FileRef } from '../../src/core/envelope.js';

export const slackFileSchema = z.object({
  id: z.string().min(1).max(256),
  name: z.string().nullish(),
  title: z.string().nullish(),
  mimetype: z.string().nullish(),
  size: z.number().int().nonnegative().nullish(),
});

export function fileRefsOf(files: z.infer<typeof slackFileSchema>[] | undefined, max: number): FileRef[] {
  return (files ?? []).slice(0, max).map((f) => ({
    id: f.id,
    name: (f.name ?? f.title ?? f.id).slice(0, 512),
    mimetype: (f.mimetype ?? '').slice(0, 256),
    ...(typeof f.size === 'number' ? { size: f.size } : {}),
    source: {},
  }));
}
