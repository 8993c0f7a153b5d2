// The consent page says what each scope lets an app do: every scope a person can be asked for has
// its sentence (a scope added without one would show a bare name to a person deciding).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consentPage } from '../src/interactions/render-page.ts';
import { apiScopes, scopeSentences, serviceOnlyScopes } from '../src/oidc/scopes.ts';

test('every scope an app may ask a person for has a sentence on the consent page', () => {
  const askable = ['openid', 'profile', 'email', 'offline_access', ...apiScopes.filter((s) => !serviceOnlyScopes.has(s))];
  assert.deepEqual(askable.filter((s) => !scopeSentences.has(s)), []);
});

test('the consent page shows each scope in words, then its name; an unknown one by its name alone, escaped', () => {
  const page = consentPage({ action: '/a', abortAction: '/b', csrf: 'c', clientName: 'App', scopes: ['offline_access', 'x<y>'] });
  assert.match(page, /<li>Keep this access while you are away, until you sign out of the app <code>offline_access<\/code><\/li>/);
  assert.match(page, /<li><code>x&lt;y&gt;<\/code><\/li>/);
});
