// CPU time from /proc, in clock ticks (USER_HZ, 100 on Linux), for the benchmarks' "where the CPU
// went" tables: a process's own and its waited-for children's, and the whole machine's busy time.
import { readFileSync } from 'node:fs';

export const ticksPerSecond = 100;

/** A process's name, parent, own CPU (utime + stime) and its reaped children's (cutime + cstime); undefined once it exited. */
export function procTicks(pid: number | string): { comm: string; ppid: number; self: number; children: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' '); // fields[0] is field 3 (state)
    return { comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(fields[1]), self: Number(fields[11]) + Number(fields[12]), children: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** The machine's busy time so far: every CPU state of /proc/stat's first line but idle and iowait. */
export function machineBusyTicks(): number {
  const values = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return values.slice(0, 8).reduce((a, b) => a + b, 0) - values[3]! - values[4]!;
}
