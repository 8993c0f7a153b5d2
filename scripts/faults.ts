// `npm run faults`: the fault scenarios of issue 12 under load, each audited (docs/reliability.md).
// Loopback only and bounded; it starts its own PostgreSQL cluster and NATS server in a temporary
// folder and never touches the machine's. `--short`: three scenarios with fewer payments (CI).
// `--only=a,b` runs the named scenarios; `--payments=N` sets the payments per scenario; `--keep` leaves the temporary folder (logs) behind.
// Exits 1 when any scenario's audit fails.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDistributed, type DistributedResources } from './faults/distributed-run.ts';
import { runEmbedded, type EmbeddedResources } from './faults/embedded-run.ts';
import { detailLines, headerLine, passed, scenarioLine, type ScenarioReport } from './faults/report.ts';
import { distributedScenarios, embeddedScenario, shortScenarioNames } from './faults/scenarios.ts';
import { runSettings } from './faults/settings.ts';

const args = process.argv.slice(2);
const short = args.includes('--short');
const keep = args.includes('--keep');
const payments = args.find((a) => a.startsWith('--payments='))?.slice('--payments='.length);
if (payments !== undefined && !/^[1-9][0-9]{0,5}$/.test(payments)) throw new Error(`--payments wants a count, not ${payments}`);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const known = [...distributedScenarios.map((s) => s.name), embeddedScenario.name];
for (const name of only ?? []) if (!known.includes(name)) throw new Error(`unknown scenario ${name}; known: ${known.join(', ')}`);
const wanted = (name: string) => (only !== undefined ? only.includes(name) : !short || (shortScenarioNames as readonly string[]).includes(name));

const scratch = mkdtempSync(join(tmpdir(), 'paymesh-faults-'));
const settings = runSettings(short, scratch, randomBytes(3).toString('hex'), payments === undefined ? undefined : Number(payments));
const distributed: DistributedResources = { stopping: false };
const embedded: EmbeddedResources = {};

let cleaning: Promise<void> | undefined;
const cleanUp = () => (cleaning ??= (async () => {
  distributed.stopping = true;
  embedded.child?.kill('SIGKILL');
  await distributed.platform?.stop().catch((error: unknown) => console.error('stopping the platform failed:', error));
  await distributed.nats?.stop('SIGKILL').catch(() => {});
  await distributed.postgres?.stop();
  if (keep) console.error(`logs and data kept in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
})());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

const reports: ScenarioReport[] = [];
const report = (r: ScenarioReport) => {
  reports.push(r);
  console.log(scenarioLine(r));
  for (const line of detailLines(r)) console.log(line);
};
console.log(`# fault run ${new Date().toISOString()} — ${short ? 'short' : 'full'}: ${settings.paymentsPerScenario} payments per scenario from ${settings.clients} clients at ${settings.paymentsPerSecond}/s, ${availableParallelism()} cores; logs in ${scratch}`);
console.log(headerLine());
let crashed = false;
try {
  const chosen = distributedScenarios.filter((s) => wanted(s.name));
  if (chosen.length > 0) await runDistributed(settings, chosen, distributed, report);
  // The distributed platform gives the machine back before the embedded one starts.
  distributed.stopping = true;
  await distributed.platform?.stop();
  if (wanted(embeddedScenario.name)) report(await runEmbedded(settings, embedded));
} catch (error) {
  crashed = true;
  console.error('the fault run stopped:', error);
} finally {
  await cleanUp();
}
const failed = reports.filter((r) => !passed(r));
console.log(crashed ? 'FAILED: the run did not finish' : failed.length === 0 ? `PASSED: ${reports.length} scenarios` : `FAILED: ${failed.map((r) => r.scenario).join(', ')}`);
process.exit(crashed || failed.length > 0 ? 1 : 0);
