import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRegisteredClients } from '../src/oidc/registered-clients.ts';

test('OAUTH_CLIENTS apps may only sign users in: a client_credentials (or any other) grant is refused at boot', () => {
  assert.throws(() => parseRegisteredClients(JSON.stringify([{ client_id: 'partner', client_secret: 'x'.repeat(32), grant_types: ['client_credentials'] }])), /only authorization_code and refresh_token/);
  assert.throws(() => parseRegisteredClients(JSON.stringify([{ client_id: 'partner', grant_types: ['authorization_code', 'implicit'] }])), /only authorization_code and refresh_token/);
  assert.equal(parseRegisteredClients(JSON.stringify([{ client_id: 'spa', grant_types: ['authorization_code', 'refresh_token'] }])).length, 1);
});

test('OAUTH_CLIENTS must be a JSON array of objects with a client_id', () => {
  assert.throws(() => parseRegisteredClients('{'), /not valid JSON/);
  assert.throws(() => parseRegisteredClients('{}'), /JSON array/);
  assert.throws(() => parseRegisteredClients('[{"redirect_uris": []}]'), /client_id/);
});
