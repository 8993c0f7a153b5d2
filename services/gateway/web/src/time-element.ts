// A date as the dashboard shows it: relative ("3 days ago"), the exact time on hover (title) and
// in the datetime attribute.
import { h } from './element.ts';
import { relativeTime } from './relative-time.ts';

/** A <time> showing the relative date, the exact one on hover. */
export function timeElement(date: Date): HTMLTimeElement {
  const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' }).format(date);
  return h('time', { datetime: date.toISOString(), title: exact }, relativeTime(date));
}
