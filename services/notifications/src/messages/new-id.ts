import { randomBytes } from 'node:crypto';

/** Stripe-style public ids (`dev_…`, `we_…`, `dlv_…`, `evt_…`): unguessable, so listing by id leaks nothing. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}
