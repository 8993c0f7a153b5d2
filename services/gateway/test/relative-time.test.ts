// The dashboard's relative dates (services/gateway/web/src/relative-time.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { relativeTime } from '../web/src/relative-time.ts';

const now = new Date('2026-12-06T12:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

describe('dates relative to now', () => {
  test('the largest unit that fits, in the reader\'s words', () => {
    assert.equal(relativeTime(ago(10), now, 'en'), 'now');
    assert.equal(relativeTime(ago(5 * 60), now, 'en'), '5 minutes ago');
    assert.equal(relativeTime(ago(3 * 3600), now, 'en'), '3 hours ago');
    assert.equal(relativeTime(ago(26 * 3600), now, 'en'), 'yesterday');
    assert.equal(relativeTime(ago(400 * 24 * 3600), now, 'en'), 'last year');
    assert.equal(relativeTime(ago(-2 * 3600), now, 'en'), 'in 2 hours');
    assert.equal(relativeTime(ago(5 * 60), now, 'de'), 'vor 5 Minuten');
  });
});
