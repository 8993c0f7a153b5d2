import { pino, type DestinationStream, type Logger } from 'pino';
import { safeError } from './log-safe-error.ts';
import { currentRequestId } from './request-context.ts';

export type { Logger };

/**
 * JSON logs with the service name on every line and the current request id mixed in, so one
 * request can be followed across services and events with a single filter. `destination`: stdout
 * unless given (tests read what a service logged).
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    mixin() {
      const reqId = currentRequestId();
      return reqId === undefined ? {} : { reqId };
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
