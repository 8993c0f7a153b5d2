// The dashboard's relative dates (services/gateway/web/src/relative-time.ts): the largest whole
// unit, past and future, in the reader's locale.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { relativeTime } from '../web/src/relative-time.ts';

describe('relative dates for people', () => {
  const now = Date.UTC(2026, 11, 6, 12, 0, 0);
  test('the largest whole unit, rounded toward zero', () => {
    assert.equal(relativeTime(now - 5 * 60_000 - 59_000, now, 'en'), '5 minutes ago');
    assert.equal(relativeTime(now - 3 * 3600_000, now, 'en'), '3 hours ago');
    assert.equal(relativeTime(now - 24 * 3600_000, now, 'en'), 'yesterday');
    assert.equal(relativeTime(now - 400 * 24 * 3600_000, now, 'en'), 'last year');
    assert.equal(relativeTime(now - 45_000, now, 'en'), '45 seconds ago');
  });

  test('the same moment is now, a later one is in the future', () => {
    assert.equal(relativeTime(now, now, 'en'), 'now');
    assert.equal(relativeTime(now + 500, now, 'en'), 'now');
    assert.equal(relativeTime(now + 2 * 24 * 3600_000, now, 'en'), 'in 2 days');
  });

  test('in the reader\'s locale', () => {
    assert.equal(relativeTime(now - 2 * 3600_000, now, 'de'), 'vor 2 Stunden');
  });
});
