/**
 * `/agent audit export DAYS`: the workspace's audit trail as a JSON Lines file, sent to the admin
 * privately by their platform (a Slack DM upload, a Teams file consent card in their 1:1 chat, a
 * download link in the local console). Who may run it is decided before (policy `audit_export`).
 */
import { isQuorumError } from '../errors.js';
import type { CoreDeps } from '../turn.js';
import type { CommandContext } from './run.js';

const DAY_MS = 24 * 3_600_000;

export async function exportAudit(deps: CoreDeps, ctx: CommandContext, days: number): Promise<string> {
  const exporter = deps.auditExport;
  const ports = deps.platforms[ctx.envelope.workspace.platform];
  if (!exporter) return 'Exporting the audit trail is not available in this installation.';
  if (!ports?.sendFile) return 'Quorum cannot send files on this platform, so nothing was exported.';
  const { content, entries } = await exporter.exportJsonl(ctx.scope, new Date(Date.now() - days * DAY_MS));
  const stamp = new Date().toISOString().slice(0, 10);
  const name = `quorum-audit-${ctx.envelope.workspace.externalId.replace(/[^\w.-]/g, '_').slice(0, 40)}-${stamp}.jsonl`;
  const what = `the audit trail of the last ${days} days (${entries} entries)`;
  let delivery;
  try {
    delivery = await ports.sendFile(ctx.envelope.workspace, ctx.envelope.user.id, { name, title: `Quorum audit export, last ${days} days`, content });
  } catch (err) {
    if (!isQuorumError(err, 'REPLY_FAILED')) throw err;
    return 'I could not send you the file just now, so nothing was exported. Please try again in a minute.';
  }
  const verify = `Check it with \`npm run audit:verify -- --file ${name}\`.`;
  switch (delivery.kind) {
    case 'sent':
      return `Sent you ${what} in a direct message: ${name}. ${verify}`;
    case 'offered':
      return `I offered you ${what} as a file in our 1:1 chat: accept it there to receive ${name}. ${verify}`;
    case 'link':
      return `Download ${what}: [${name}](${delivery.url}) ${verify}`;
    case 'unreachable':
      return 'I cannot reach you privately yet (start a 1:1 chat with Quorum first), so nothing was exported.';
  }
}
