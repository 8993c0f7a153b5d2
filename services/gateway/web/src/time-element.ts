// A date as the dashboard shows it: relative ("5 minutes ago"), the exact date and time in its
// title for whoever hovers it.
import { h } from './element.ts';
import { relativeTime } from './relative-time.ts';

/** A `<time>` saying how long ago, with the exact date and time as its title. */
export function timeElement(date: Date, nowMs = Date.now()): HTMLTimeElement {
  const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' }).format(date);
  return h('time', { datetime: date.toISOString(), title: exact }, relativeTime(date.getTime(), nowMs));
}
