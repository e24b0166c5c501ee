/**
 * Free text from libraries (Bolt, botbuilder, console lines) can quote what it should not: a
 * token, a key, a JWT. Log fields are redacted by name in src/log.ts; this scrubs text itself.
 */
const SECRETS: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----/g, '[key redacted]'],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[token redacted]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [/\b(xox[abposr]|xapp)-[A-Za-z0-9-]+/g, '$1-[redacted]'],
  [/\bsk-[A-Za-z0-9_-]{16,}/g, 'sk-[redacted]'],
  [/\b((?:client_)?secret|password|token|api[_-]?key)(["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi, '$1$2[redacted]'],
];

/** The text with what looks like a credential (tokens, keys, JWTs, secrets) replaced. */
export function scrubText(text: string): string {
  return SECRETS.reduce((t, [pattern, replacement]) => t.replace(pattern, replacement), text);
}
