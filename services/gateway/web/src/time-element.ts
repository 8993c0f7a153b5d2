// A date on a page: relative ("3 minutes ago"), with the exact date and time in its title (shown
// on hover) and its datetime attribute.
import { h } from './element.ts';
import { relativeTime } from './relative-time.ts';

/** A <time> showing the relative form, the exact one on hover. */
export function timeElement(date: Date, now: Date = new Date()): HTMLTimeElement {
  const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' }).format(date);
  return h('time', { datetime: date.toISOString(), title: exact }, relativeTime(date, now));
}
