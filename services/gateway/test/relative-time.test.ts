// Dates as the dashboard shows them (services/gateway/web/src/relative-time.ts): relative, in the
// reader's language, the largest unit that fits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { relativeTime } from '../web/src/relative-time.ts';

const now = new Date('2026-12-06T12:00:00Z');
const before = (seconds: number) => new Date(now.getTime() - seconds * 1000);

describe('relative dates', () => {
  test('the largest unit that fits, rounded', () => {
    assert.equal(relativeTime(before(20), now, 'en'), 'now');
    assert.equal(relativeTime(before(90), now, 'en'), '2 minutes ago');
    assert.equal(relativeTime(before(3 * 3600), now, 'en'), '3 hours ago');
    assert.equal(relativeTime(before(86_400), now, 'en'), 'yesterday');
    assert.equal(relativeTime(before(10 * 86_400), now, 'en'), 'last week');
    assert.equal(relativeTime(before(400 * 86_400), now, 'en'), 'last year');
  });

  test('the future too, and other languages', () => {
    assert.equal(relativeTime(before(-2 * 86_400), now, 'en'), 'in 2 days');
    assert.equal(relativeTime(before(3 * 3600), now, 'fr'), 'il y a 3 heures');
  });
});
