// PGlite's callers, one at a time and in arrival order, with the event loop let in between
// (docs/adr/0031-pglite-turns.md). PGlite runs each statement synchronously on the JavaScript
// thread, and its own queue hands over to the next caller as a resolved promise: a backlog of
// statements ran in one macrotask, so in embedded mode, under load, one turn of the event loop
// took 100–500 ms. Node accepts one new connection per turn, so clients opening connections
// during a burst waited up to 15 s (some timed out) while kept-alive ones were served. Here the
// turn passes through setImmediate whenever the current slice of work has run for `sliceMs`:
// sockets are accepted and read, timers fire, and then the next caller goes on. Inside a
// transaction the holder keeps its turn, but its statements let the event loop in the same way.
import type { PGlite } from './drizzle.ts';

export type PgliteRunner = Pick<PGlite, 'query' | 'exec' | 'transaction'>;

/** Long enough for the setImmediate to cost nothing measurable, short enough not to be felt by a request. */
const defaultSliceMs = 4;

export interface TakingTurns extends PgliteRunner {
  /**
   * `work` in one turn: nobody else's statement runs until it settles. Its statements, through
   * `session`, let the event loop in as every caller's do (embedded-cluster.ts enters a role first).
   */
  turn<T>(work: (session: PgliteRunner) => Promise<T>): Promise<T>;
  /** Callers waiting for their turn now (the database's `pending` connections). */
  readonly waiting: number;
  /** True while a caller holds its turn. */
  readonly busy: boolean;
}

export function takingTurns(client: PgliteRunner, sliceMs = defaultSliceMs): TakingTurns {
  const queue: (() => void)[] = [];
  let busy = false;
  let sliceStartedAt = performance.now();

  /** Lets the event loop in if this slice has run long enough; a fresh slice starts after. */
  const breathe = async () => {
    if (performance.now() - sliceStartedAt < sliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    sliceStartedAt = performance.now();
  };
  const enter = async () => {
    if (busy) await new Promise<void>((resolve) => queue.push(resolve));
    else busy = true;
  };
  // The turn goes straight to the next caller (its first statement yields if the slice is spent).
  const leave = () => {
    const next = queue.shift();
    if (next === undefined) busy = false;
    else next();
  };
  /** A transaction's statements, each letting the event loop in first when the slice is spent. */
  const breathing = <Tx extends Pick<PgliteRunner, 'query' | 'exec'>>(tx: Tx): Tx => {
    // The same object underneath (PGlite's transaction has a getter and methods of its own).
    const view = Object.create(tx) as Tx;
    view.query = (async (...args: Parameters<PGlite['query']>) => {
      await breathe();
      return tx.query(...args);
    }) as Tx['query'];
    view.exec = (async (...args: Parameters<PGlite['exec']>) => {
      await breathe();
      return tx.exec(...args);
    }) as Tx['exec'];
    return view;
  };
  const turn = async <T>(work: (session: PgliteRunner) => Promise<T>): Promise<T> => {
    await enter();
    // The session for this turn only: a statement sent through it after the turn (a promise
    // nobody awaited) would run in someone else's turn, in their role.
    let open = true;
    const inTurn = () => {
      if (!open) throw new Error('a PGlite statement was sent after its turn had ended');
    };
    const session: PgliteRunner = {
      query: ((...args: Parameters<PGlite['query']>) => (inTurn(), breathe().then(() => client.query(...args)))) as PGlite['query'],
      exec: ((...args: Parameters<PGlite['exec']>) => (inTurn(), breathe().then(() => client.exec(...args)))) as PGlite['exec'],
      transaction: ((txWork: Parameters<PGlite['transaction']>[0]) => (inTurn(), client.transaction((tx) => txWork(breathing(tx))))) as PGlite['transaction'],
    };
    try {
      return await work(session);
    } finally {
      open = false;
      leave();
    }
  };
  return {
    turn,
    get waiting() {
      return queue.length;
    },
    get busy() {
      return busy;
    },
    query: ((...args: Parameters<PGlite['query']>) => turn((s) => s.query(...args))) as PGlite['query'],
    exec: ((...args: Parameters<PGlite['exec']>) => turn((s) => s.exec(...args))) as PGlite['exec'],
    transaction: ((work: Parameters<PGlite['transaction']>[0]) => turn((s) => s.transaction(work))) as PGlite['transaction'],
  };
}
