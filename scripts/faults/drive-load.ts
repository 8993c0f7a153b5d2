// One scenario's load with its fault in the middle: the fault is injected once a third of the
// payments are acknowledged (the load keeps running through it), and the load then runs to its end.
import { newLoadRecord, runLoad, type LoadOptions, type LoadRecord, type Payer } from './load-client.ts';
import { login } from './payers.ts';
import type { RunSettings } from './settings.ts';

export interface DrivenLoad {
  readonly record: LoadRecord;
  /** When the fault was over (ms since the epoch). */
  readonly recoveredAt: number;
  /** An error thrown by the fault itself (the scenario fails with it). */
  readonly faultError?: string;
}

export async function driveLoad(options: LoadOptions, inject: () => Promise<void>): Promise<DrivenLoad> {
  const record = newLoadRecord();
  let loadDone = false;
  const load = runLoad(options, record).finally(() => { loadDone = true; });
  // Bounded: the fault comes at a third of the load, or when the load stalls for a minute before it.
  const deadline = Date.now() + 60_000;
  while (!loadDone && record.acked < options.count / 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  let faultError: string | undefined;
  try {
    await inject();
  } catch (error) {
    faultError = `the fault could not be injected or undone: ${error instanceof Error ? error.message : String(error)}`;
  }
  const recoveredAt = Date.now();
  await load;
  return { record, recoveredAt, faultError };
}

/** A scenario's load through the gateway at `gatewayUrl`, sized by the run's settings. */
export function scenarioLoad(settings: RunSettings, scenario: string, gatewayUrl: string, payers: readonly Payer[]): LoadOptions {
  return {
    gatewayUrl: () => gatewayUrl,
    payers,
    count: settings.paymentsPerScenario,
    clients: settings.clients,
    paymentsPerSecond: settings.paymentsPerSecond,
    keyPrefix: `faults-${settings.tag}-${scenario}`,
    perPaymentDeadlineMs: settings.perPaymentDeadlineMs,
    attemptTimeoutMs: settings.attemptTimeoutMs,
    relogin: async (payer) => { payer.token = await login(gatewayUrl, payer); },
  };
}
