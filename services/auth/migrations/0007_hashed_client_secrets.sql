-- Registered clients' secrets are kept as a SHA-256 digest from now on (src/clients/client-secret.ts):
-- the clear secrets stored before are replaced by theirs, so the clients keep working with the secret
-- they hold while the database stops holding it.
update oidc_models
set payload = jsonb_set(payload, '{client_secret}', to_jsonb('sha256:' || encode(sha256(convert_to(payload->>'client_secret', 'UTF8')), 'hex')))
where model = 'Client' and payload ? 'client_secret' and payload->>'client_secret' not like 'sha256:%';
