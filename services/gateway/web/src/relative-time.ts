// Dates as people read them: relative ("3 days ago"), in the reader's language (time-element.ts
// puts the exact time on hover).

const units: [Intl.RelativeTimeFormatUnit, number][] = [['year', 31_536_000], ['month', 2_592_000], ['week', 604_800], ['day', 86_400], ['hour', 3_600], ['minute', 60]];

/** `relativeTime(new Date(Date.now() - 90_000))` → "2 minutes ago"; under a minute: "now". */
export function relativeTime(date: Date, now = new Date(), locale?: string): string {
  const seconds = (date.getTime() - now.getTime()) / 1000;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.sign(seconds) * Math.round(Math.abs(seconds) / size), unit);
  }
  return format.format(0, 'second');
}
