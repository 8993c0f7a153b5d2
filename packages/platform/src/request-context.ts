// The request id (and the caller's bearer, where a call is made on their behalf) follows the
// work through async calls so that the service client and the outbox can pass it on without
// every function taking it as a parameter.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  readonly requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

export function newRequestId(): string {
  return randomUUID();
}

/** Accepts an incoming request id only when it is short and printable, so logs cannot be forged. */
export function acceptRequestId(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  return /^[A-Za-z0-9._:-]{1,128}$/.test(raw) ? raw : undefined;
}
