// Writes a commit group holds back and makes at its end (commit-group.ts; what is held: ADR 32),
// such as its units' events or payments' idempotent responses. Each kind is written
// for the whole group in one statement instead of one per unit, in the group's transaction, after
// its units and before its commit. A kind's writer checks every row it was given (a claim still
// held, an attempt still ours) and throws otherwise: the group then rolls back and each unit is
// applied alone, so the unit whose row failed gets its own error, as if it had written it itself.
// Outside a group, `holdWrite` holds nothing and the caller writes at once.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db } from './open-database.ts';

/** A kind of write that can be made for many rows in one statement. */
export interface HeldWrite<Row> {
  /** Writes `rows` (in the order they were held) in `tx`; throws if any of them cannot be written. */
  write(tx: Db, rows: readonly Row[]): Promise<void>;
}

interface Holding {
  readonly rows: Map<HeldWrite<never>, unknown[]>;
  open: boolean;
}

const holding = new AsyncLocalStorage<Holding>();

/** Holds `row` until the end of the commit group under way: true if held, false if the caller must write it now. */
export function holdWrite<Row>(kind: HeldWrite<Row>, row: Row): boolean {
  const held = holding.getStore();
  // Closed: something started inside the group runs after its end; it writes by itself.
  if (held === undefined || !held.open) return false;
  const rows = held.rows.get(kind as HeldWrite<never>);
  if (rows === undefined) held.rows.set(kind as HeldWrite<never>, [row]);
  else rows.push(row);
  return true;
}

/** Runs `work` with writes held, then makes them in `tx`, each kind in the order it was first held. */
export async function holdingWrites<T>(tx: Db, work: () => Promise<T>): Promise<T> {
  if (holding.getStore()?.open === true) return work();
  const held: Holding = { rows: new Map(), open: true };
  let value: T;
  try {
    value = await holding.run(held, work);
  } finally {
    held.open = false;
  }
  for (const [kind, rows] of held.rows) await kind.write(tx, rows as never[]);
  return value;
}
