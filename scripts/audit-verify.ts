/**
 * `npm run audit:verify`: checks every workspace's audit hash chain in the configured database
 * (DATABASE_URL, or the embedded one in DATA_DIR) and exits non-zero at the first broken chain.
 * `npm run audit:verify -- --file export.jsonl` checks an exported file instead, without the
 * database. Either way the chain heads' signatures are checked with the signing key
 * (AUDIT_SIGNING_KEY, else derived from QUORUM_ENCRYPTION_KEY or the development key in DATA_DIR)
 * when one is at hand; without one the output says the signature was not checked.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { auditSigningKeyOf } from '../src/db/audit-signing.js';
import { verifyExportFile } from '../src/db/audit-export.js';
import { formatChainReports, verifyAllChains } from '../src/db/audit-verify.js';

function verifyFile(path: string, key: Buffer | null): number {
  const check = verifyExportFile(readFileSync(path, 'utf8'), key);
  if (!check.ok) {
    process.stdout.write(`BROKEN  ${path}  line ${check.line}: ${check.reason}\n`);
    return 1;
  }
  const signature = check.signature === 'valid' ? 'head signature valid' : 'head signature NOT checked (no signing key: set AUDIT_SIGNING_KEY or QUORUM_ENCRYPTION_KEY)';
  process.stdout.write(`ok      ${path}  workspace ${check.workspaceId}  ${check.entries} entries, ${signature}\n`);
  return 0;
}

async function main(): Promise<number> {
  const config = loadConfig();
  const key = auditSigningKeyOf(config);
  const at = process.argv.indexOf('--file');
  if (at !== -1) {
    const path = process.argv[at + 1];
    if (!path) throw new Error('--file needs a path');
    return verifyFile(path, key);
  }
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 1 });
  try {
    const reports = await verifyAllChains(database.db, key);
    process.stdout.write(`${formatChainReports(reports)}\n`);
    const broken = reports.filter((r) => !r.ok).length;
    process.stdout.write(broken === 0 ? `audit:verify: ${reports.length} chains intact\n` : `audit:verify: ${broken} broken chain(s)\n`);
    if (!key) process.stdout.write('audit:verify: head signatures NOT checked (no signing key)\n');
    return broken === 0 ? 0 : 1;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`audit:verify failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
