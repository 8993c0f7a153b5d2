// Debian's promtool (package `prometheus`), run on what the platform exposes and on the committed
// Prometheus configuration and rules. Absent on a newcomer's machine: the tests skip, saying why;
// under REQUIRE_PROMTOOL=1 (.ci/run) a missing promtool fails the file instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const promtoolPath = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';

/** The `skip` option of a promtool suite: why it is skipped, or false. */
export function skipWithoutPromtool(): string | false {
  if (existsSync(promtoolPath)) return false;
  if (process.env.REQUIRE_PROMTOOL === '1') throw new Error(`REQUIRE_PROMTOOL=1 but there is no promtool at ${promtoolPath} (apt-get install prometheus, or set PROMTOOL_PATH)`);
  return `no promtool at ${promtoolPath}: Prometheus checks skipped (apt-get install prometheus; CI sets REQUIRE_PROMTOOL=1)`;
}

export interface PromtoolRun {
  readonly status: number | null;
  /** stdout and stderr together: promtool reports lint problems on either, depending on the command. */
  readonly output: string;
}

/**
 * Runs promtool with a bounded time; `input` goes to its stdin (`check metrics` reads it there).
 * `test rules` takes ~8 s of CPU on a quiet two-core machine and over 30 s beside the suite's other
 * lanes (a CI run timed out at 30 s): the bound only stops a hung promtool.
 */
export function promtool(args: readonly string[], options: { input?: string; cwd?: string } = {}): PromtoolRun {
  const run = spawnSync(promtoolPath, args, { input: options.input, cwd: options.cwd, encoding: 'utf8', timeout: 180_000 });
  if (run.error !== undefined) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
