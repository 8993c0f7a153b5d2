// The users service: identities (username, email, argon2id hash, role, status).
import { resolve } from 'node:path';
import formbody from '@fastify/formbody';
import { createServiceServer } from '@paymesh/platform/runtime';
import { defineService } from '@paymesh/platform/service-host';
import { accountRoutes } from './accounts/account-routes.ts';
import { bootstrapAdmin } from './accounts/bootstrap-admin.ts';
import { credentialRoutes } from './credentials/credential-routes.ts';
import { usersConfigSpec } from './config.ts';

export const usersService = defineService({
  name: 'users',
  configSpec: usersConfigSpec,
  migrationsDir: resolve(import.meta.dirname, '../migrations'),
  async build(runtime) {
    const app = createServiceServer(runtime);
    await app.register(formbody);
    accountRoutes(app, runtime);
    credentialRoutes(app, runtime);
    return { app, extra: undefined };
  },
  async onStart(runtime, config) {
    await bootstrapAdmin(runtime, { username: config.bootstrapAdminUsername, email: config.bootstrapAdminEmail, password: config.bootstrapAdminPassword, passwordFile: config.bootstrapAdminPasswordFile });
  },
});
