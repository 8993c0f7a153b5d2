// Dates as people read them: relative ("3 minutes ago") in the reader's locale (time-element.ts
// puts the exact date and time in the title, shown on hover).

const units: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600], ['month', 30 * 24 * 3600], ['week', 7 * 24 * 3600], ['day', 24 * 3600], ['hour', 3600], ['minute', 60], ['second', 1],
];

/** `relativeTime(then, now, 'en')` → "5 minutes ago", "yesterday", "now". */
export function relativeTime(date: Date, now: Date = new Date(), locale?: string): string {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  if (Math.abs(seconds) < 45) return format.format(0, 'second');
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(seconds, 'second');
}
