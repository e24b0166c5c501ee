/** What went wrong with a tool server, in a line fit for a log or an answer: its addresses left out (they can carry tokens). */
export function problemOf(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return message.replace(/https?:\/\/\S+/g, '(url)').slice(0, 200);
}
