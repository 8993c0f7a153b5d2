// Dates as people read them in a list: "3 minutes ago", "yesterday", in the reader's locale
// (Intl.RelativeTimeFormat); the exact time goes in the element's `title` (see timeElement).

const units: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** `formatRelativeTime(new Date(now - 90_000), now, 'en')` → "2 minutes ago"; under a minute, "now". */
export function formatRelativeTime(date: Date, nowMs: number = Date.now(), locale?: string): string {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const seconds = Math.round((date.getTime() - nowMs) / 1000);
  const magnitude = Math.abs(seconds);
  for (const [unit, unitSeconds] of units) {
    if (magnitude >= unitSeconds) return format.format(Math.round(seconds / unitSeconds), unit);
  }
  return format.format(0, 'second');
}

/** The exact time, for the `title` a pointer shows on hover: "6 Dec 2026, 23:45:13" in the reader's locale. */
export function formatExactTime(date: Date, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(date);
}
