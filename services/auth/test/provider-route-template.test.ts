// The route label of requests oidc-provider answers: the provider's own template under /auth, so
// metrics say `/auth/token` and `/auth/authorize/:uid`, never a raw path or `unmatched` for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { providerRouteTemplate } from '../src/oidc/provider-route-paths.ts';

test('provider requests are labelled with the route template, whatever the spelling of the path', () => {
  assert.equal(providerRouteTemplate('POST', '/token'), '/auth/token');
  assert.equal(providerRouteTemplate('POST', '/TOKEN/'), '/auth/token');
  assert.equal(providerRouteTemplate('GET', '/jwks'), '/auth/jwks');
  assert.equal(providerRouteTemplate('HEAD', '/jwks'), '/auth/jwks');
  assert.equal(providerRouteTemplate('GET', '/.well-known/openid-configuration'), '/auth/.well-known/openid-configuration');
  assert.equal(providerRouteTemplate('GET', '/authorize/Xy12-secret-uid'), '/auth/authorize/:uid');
  assert.equal(providerRouteTemplate('POST', '/token/introspection'), '/auth/token/introspection');
  assert.equal(providerRouteTemplate('POST', '/session/end/confirm'), '/auth/session/end/confirm');
  assert.equal(providerRouteTemplate('GET', '/me'), '/auth/me');
});

test('a path or method the provider does not serve is `unmatched`: the label stays bounded', () => {
  assert.equal(providerRouteTemplate('GET', '/no/such/path/123'), 'unmatched');
  assert.equal(providerRouteTemplate('DELETE', '/token'), 'unmatched');
  assert.equal(providerRouteTemplate('OPTIONS', '/token'), 'unmatched');
});
