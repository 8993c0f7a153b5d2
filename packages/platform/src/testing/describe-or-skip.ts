// node:test leaves a skipped `describe` out of its summary: a run with whole PostgreSQL and NATS
// suites skipped closed on "skipped 0". A skipped suite is reported as one skipped test instead,
// with its reason, so the closing line counts it.
import { describe, test, type SuiteFn } from 'node:test';

/** `describe(name, fn)`, or when `skip` gives a reason, one skipped test of that name. */
export function describeOrSkip(name: string, skip: string | false, fn: SuiteFn): void {
  if (skip === false) describe(name, fn);
  else test(name, { skip }, () => {});
}
