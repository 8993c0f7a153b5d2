// How errors are written to the logs. A database error carries the values of the failing query:
// drizzle puts every parameter in its message ("params: …"), PostgreSQL quotes the offending value
// in messages and details ("invalid input syntax …: \"4111…\"", "Key (email)=(…) already exists").
// A card number and freshly generated secrets reached the logs that way. So a database error is
// logged by its code, table, column and constraint only, and a failed query by its SQL text only.

const sqlState = /^[0-9A-Z]{5}$/;
const maxCauseDepth = 5;

export function safeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return error;
  const fields = error as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { type: error.constructor.name };
  if (isDatabaseError(fields)) {
    // The message and the detail may quote the value; these name the place only.
    for (const key of ['code', 'severity', 'schema', 'table', 'column', 'constraint', 'dataType', 'routine']) {
      if (typeof fields[key] === 'string') out[key] = fields[key];
    }
    out.message = `database error ${String(fields.code)}`;
  } else {
    if (typeof fields.code === 'string' || typeof fields.code === 'number') out.code = fields.code;
    if (typeof fields.statusCode === 'number') out.statusCode = fields.statusCode;
    const message = withoutParams(error.message);
    out.message = message;
    if (error.stack !== undefined) out.stack = message === error.message ? error.stack : error.stack.replace(error.message, message);
  }
  if (error.cause !== undefined && depth < maxCauseDepth) out.cause = safeError(error.cause, depth + 1);
  return out;
}

function isDatabaseError(fields: Record<string, unknown>): boolean {
  return typeof fields.code === 'string' && sqlState.test(fields.code) && typeof fields.severity === 'string';
}

/** Drizzle's "Failed query: <sql>\nparams: <values>": the SQL text stays, the values go. */
function withoutParams(message: string): string {
  const at = message.indexOf('\nparams:');
  return at === -1 ? message : `${message.slice(0, at)}\nparams: [not logged]`;
}
