// The platform of bench/payments-embedded.ts, in a process of its own so that the load generator
// does not share its event loop: startEmbedded as `npm start` runs it, on PGlite in the data
// folder given as argument (the scratch folder of the benchmark). Says `{"gatewayUrl": …}` on
// stdout once it serves. On SIGINT it reads its payments schema (ledger invariants, counts, and
// the values of one payment for the benchmark's payment-SQL floor), says them as one JSON line,
// stops and exits: only this process can open that PGlite.
import { join } from 'node:path';
import { startEmbedded } from '@paymesh/app/start-embedded';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '@paymesh/payments/check-invariants';

const scratch = process.argv[2]!;
const platform = await startEmbedded({
  env: {
    ...process.env,
    LOG_LEVEL: 'error',
    BOOTSTRAP_ADMIN_PASSWORD_FILE: join(scratch, 'admin.txt'),
    EMAIL_OUTBOX_DIR: join(scratch, 'mail'), // each payment's receipt email is written here
    // Every user of the benchmark signs up and logs in from 127.0.0.1: more than one address's hourly allowance.
    USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR: '1000000', USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR: '1000000',
    PORT: undefined, DATABASE_URL: undefined, NATS_URL: undefined, AUTH_ISSUER: undefined, PUBLIC_URL: undefined,
  },
  ports: 'random',
  dataRoot: join(scratch, 'data'),
});

async function report(): Promise<unknown> {
  const db = platform.services.payments.runtime.database.db;
  const [counts] = await queryRows<{ payments: string; keys: string }>(db, sql`
    select (select count(*) from payments)::text as payments, (select count(*) from idempotency_keys where state = 'done')::text as keys`);
  const [sample] = await queryRows<{ card: string; fingerprint: string; response: string; event: string; request_id: string }>(db, sql`
    select p.payment_method::text as card, k.request_fingerprint as fingerprint, k.response_body as response, o.payload::text as event, o.request_id
    from payments p
    join idempotency_keys k on k.response_body like '%"' || p.id || '"%'
    join outbox o on o.payload->>'payment_id' = p.id
    where p.status = 'succeeded' limit 1`);
  return { ...counts, violations: await checkLedgerInvariants(db), sample };
}

// Installed before saying where it serves: a SIGINT sent on reading that line must find it.
process.once('SIGINT', () => {
  void report()
    .then((result) => process.stdout.write(`${JSON.stringify({ report: result })}\n`))
    .catch((error: unknown) => process.stderr.write(`reading the payments schema failed: ${String(error)}\n`))
    .finally(() => platform.stop().then(() => process.exit(0), () => process.exit(1)));
});
process.stdout.write(`${JSON.stringify({ gatewayUrl: platform.gatewayUrl })}\n`);
