import { pino, type DestinationStream, type Logger } from 'pino';
import { safeError } from './log-safe-error.ts';
import { currentRequestId } from './request-context.ts';
import { activeTraceIds } from './tracing/trace-context.ts';

export type { Logger };

/**
 * JSON logs with the service name on every line and the current request id (and trace) mixed in, so one
 * request can be followed across services and events with a single filter. `destination`: stdout
 * unless given (tests read what a service logged).
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    // The trace and span ids (OpenTelemetry's log field names) let a log line be found from its
    // trace and the reverse; nothing is added while tracing is off.
    mixin() {
      const reqId = currentRequestId();
      const traced = activeTraceIds();
      return reqId === undefined ? traced : { reqId, ...traced };
    },
    // Errors never bring the values of a failed query into the logs (log-safe-error.ts).
    serializers: { err: safeError, error: safeError },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.client_secret', '*.card.number', '*.cvc'],
      censor: '[redacted]',
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
