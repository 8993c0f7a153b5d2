// Named (prepared) statements on PostgreSQL. node-postgres sends every query unnamed: PostgreSQL
// parses, analyses and plans it again each time. Named, a statement is parsed once per connection
// and then only bound and executed: on this machine that is 1.35 × the single-row inserts per
// second and 1.8 × the trivial statements (docs/benchmarks.md, ADR 30), and the platform's SQL is
// a few dozen fixed texts run over and over. A statement gets a name the first time its text is
// seen, up to a bound (texts beyond it, as a list of a changing length may make, stay unnamed),
// so each connection holds at most that many prepared statements.
import type pg from 'pg';

type QueryConfig = { text?: unknown; name?: unknown; submit?: unknown };
type Callback = (error: Error | null | undefined, result?: unknown) => void;

export class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #limit: number;
  #next = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The name the text is prepared under, or undefined when the bound is reached. */
  nameOf(text: string): string | undefined {
    let name = this.#names.get(text);
    if (name === undefined && this.#names.size < this.#limit) {
      name = `paymesh_${(this.#next++).toString(36)}`;
      this.#names.set(text, name);
    }
    return name;
  }

  /**
   * The text's prepared statement no longer matches its table (another replica's migration changed
   * the columns it returns: PostgreSQL answers 0A000 once): the next use prepares it afresh under a
   * new name. The old one stays allocated on the connections that had it until they close.
   */
  renew(text: string): void {
    this.#names.delete(text);
  }
}

/** Makes `client` send each query it is given as a config object (what drizzle sends) by name. */
export function preparingStatements(client: pg.ClientBase, names: StatementNames): void {
  const query = client.query.bind(client) as (config: unknown, values?: unknown, callback?: Callback) => unknown;
  const renewing = (text: string) => (error: unknown) => {
    if ((error as { code?: string } | null)?.code === '0A000') names.renew(text);
  };
  (client as { query: unknown }).query = (config: unknown, values?: unknown, callback?: Callback) => {
    const c = config as QueryConfig | null;
    // A string, a Query or Cursor object (has submit), or a name of the caller's own: as it is.
    // Without parameters node-postgres uses the simple protocol, which also runs several statements
    // in one text (a migration, a `set local …; set …`): a name would refuse them, so those stay too.
    if (c === null || typeof c !== 'object' || typeof c.text !== 'string' || c.name !== undefined || c.submit !== undefined
      || !Array.isArray(values) || values.length === 0) return query(config, values, callback);
    const text = c.text;
    const name = names.nameOf(text);
    if (name === undefined) return query(config, values, callback);
    const named = { ...c, name };
    if (callback !== undefined) {
      const done = callback;
      return query(named, values, (error, result) => {
        if (error) renewing(text)(error);
        done(error, result);
      });
    }
    const pending = query(named, values) as Promise<unknown>;
    pending.catch(renewing(text));
    return pending;
  };
}
