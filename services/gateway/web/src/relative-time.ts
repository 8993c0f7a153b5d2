// Dates as people read them: "3 minutes ago" in the reader's locale (Intl.RelativeTimeFormat),
// with the exact time beside it (time-element.ts). No DOM here: unit-tested under Node.

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** `relativeTime(then, now, 'en')` → "5 minutes ago", "in 2 days", "now"; the largest whole unit, rounded toward zero. */
export function relativeTime(thenMs: number, nowMs: number, locale?: string): string {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const seconds = (thenMs - nowMs) / 1000;
  for (const [unit, size] of units) {
    const count = Math.trunc(seconds / size);
    if (count !== 0) return format.format(count, unit);
  }
  return format.format(0, 'second');
}
