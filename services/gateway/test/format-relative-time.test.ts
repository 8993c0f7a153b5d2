// The dashboard's relative dates (services/gateway/web/src/format-relative-time.ts): the largest
// whole unit in the reader's locale, "now" under a minute, and the exact time for the hover title.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatExactTime, formatRelativeTime } from '../web/src/format-relative-time.ts';

const nowMs = Date.UTC(2026, 11, 6, 12, 0, 0);
const ago = (seconds: number) => new Date(nowMs - seconds * 1000);

describe('dates relative to now', () => {
  test('under a minute is "now"; then minutes, hours, days, weeks, months, years', () => {
    assert.equal(formatRelativeTime(ago(0), nowMs, 'en'), 'now');
    assert.equal(formatRelativeTime(ago(59), nowMs, 'en'), 'now');
    assert.equal(formatRelativeTime(ago(150), nowMs, 'en'), '2 minutes ago');
    assert.equal(formatRelativeTime(ago(3 * 3600), nowMs, 'en'), '3 hours ago');
    assert.equal(formatRelativeTime(ago(24 * 3600), nowMs, 'en'), 'yesterday');
    assert.equal(formatRelativeTime(ago(3 * 24 * 3600), nowMs, 'en'), '3 days ago');
    assert.equal(formatRelativeTime(ago(14 * 24 * 3600), nowMs, 'en'), '2 weeks ago');
    assert.equal(formatRelativeTime(ago(65 * 24 * 3600), nowMs, 'en'), '2 months ago');
    assert.equal(formatRelativeTime(ago(800 * 24 * 3600), nowMs, 'en'), '2 years ago');
  });

  test('a time ahead (a clock a little off) reads as future, and the locale decides the words', () => {
    assert.equal(formatRelativeTime(ago(-120), nowMs, 'en'), 'in 2 minutes');
    assert.equal(formatRelativeTime(ago(3600), nowMs, 'de'), 'vor 1 Stunde');
  });

  test('the exact time carries the date and the seconds', () => {
    const exact = formatExactTime(new Date(Date.UTC(2026, 11, 6, 12, 45, 13)), 'en-GB');
    assert.match(exact, /6 Dec 2026/);
    assert.match(exact, /:13/);
  });
});
