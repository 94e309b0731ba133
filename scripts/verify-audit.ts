/**
 * Verifies the audit trail's hash chains in a data directory (run by hand, or from a cron job:
 * `npm run verify:audit -- --data-dir ./data`). Prints each AuditEvent that was changed, deleted,
 * reordered or lost its predecessor, and every chain cut short of its newest signed checkpoint
 * (DATA_DIR/audit-checkpoints.jsonl); exits 1 when there is any, 0 when the trail is whole.
 * Safe while the server runs: it only reads.
 */
import { problemLine, verifyTrail } from '../src/audit/verify';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { buildDeps } from '../src/main';

async function main(): Promise<void> {
  const config = { ...loadConfig(process.env, process.argv.slice(2)), audit: false };
  const deps = buildDeps(config, createLogger('error', true));
  try {
    const checkpoints = deps.auditCheckpoints?.read() ?? { heads: [], bad: [] };
    const report = await verifyTrail(deps.store, checkpoints.heads);
    for (const p of report.problems) console.log(problemLine(p));
    for (const line of checkpoints.bad) console.log(`audit-checkpoints.jsonl line ${line} is not a checkpoint this server signed`);
    const problems = report.problems.length + checkpoints.bad.length;
    console.log(`${report.events} AuditEvents in ${report.chains} chains checked against ${checkpoints.heads.length} checkpoints; ${problems} problems`);
    process.exitCode = problems > 0 ? 1 : 0;
  } finally {
    await deps.store.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 2;
});
