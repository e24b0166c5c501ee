/**
 * `npm run audit:verify`: checks every workspace's audit hash chain in the configured database
 * (DATABASE_URL, or the embedded one in DATA_DIR) and exits non-zero at the first broken chain.
 */
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { formatChainReports, verifyAllChains } from '../src/db/audit-verify.js';

async function main(): Promise<number> {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolSize: 1 });
  try {
    const reports = await verifyAllChains(database.db);
    process.stdout.write(`${formatChainReports(reports)}\n`);
    const broken = reports.filter((r) => !r.ok).length;
    process.stdout.write(broken === 0 ? `audit:verify: ${reports.length} chains intact\n` : `audit:verify: ${broken} broken chain(s)\n`);
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
