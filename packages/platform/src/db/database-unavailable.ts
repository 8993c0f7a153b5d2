// Whether an error means "the database cannot be reached right now" (restarting, shutting down,
// refusing connections, a connection cut) rather than "this query is wrong". Those are operating
// errors: the request gets a 503 to retry, background work waits, and the process carries on.

// SQLSTATE classes and codes of a server going away or not yet taking connections.
const unavailableStates = new Set(['57P01', '57P02', '57P03', '53300']);
// Socket errors of a refused, reset or silent connection.
const unavailableSocketCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres reports a lost or never-made connection without a code, by these messages only.
const unavailableMessages = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  // drizzle wraps the driver's error in `cause`; walk the chain (bounded: a cycle ends it).
  let current = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (unavailableStates.has(code) || code.startsWith('08') || unavailableSocketCodes.has(code)) return true;
    }
    if (typeof message === 'string' && unavailableMessages.some((m) => message.startsWith(m))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
