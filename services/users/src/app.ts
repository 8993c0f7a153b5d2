// The users service: identities (username, email, argon2id hash, role, status) and their
// lifecycle: registration, email verification, password reset, self-service, administration.
import { resolve } from 'node:path';
import formbody from '@fastify/formbody';
import { createServiceServer } from '@paymesh/platform/runtime';
import { defineService } from '@paymesh/platform/service-host';
import { accountRoutes } from './accounts/account-routes.ts';
import { CurrentPasswordCheck } from './accounts/current-password-check.ts';
import { passwordChangeRoutes } from './accounts/password-change-routes.ts';
import { profileRoutes } from './accounts/profile-routes.ts';
import { registrationRoutes } from './accounts/registration-routes.ts';
import { backfillLoginKeys } from './accounts/backfill-login-keys.ts';
import { bootstrapAdmin } from './accounts/bootstrap-admin.ts';
import type { RegistrationContext } from './accounts/create-user.ts';
import { adminRoutes } from './admin/admin-routes.ts';
import { credentialRoutes } from './credentials/credential-routes.ts';
import { usersConfigSpec } from './config.ts';
import { refuseForeignFormPosts } from './pages/account-pages.ts';
import { passwordResetRoutes } from './password-reset/password-reset-routes.ts';
import { ResetRequestJob } from './password-reset/reset-request-job.ts';
import { AccountThrottles } from './throttle/account-throttles.ts';
import { verificationRoutes } from './verification/verification-routes.ts';

export const usersService = defineService({
  name: 'users',
  configSpec: usersConfigSpec,
  migrationsDir: resolve(import.meta.dirname, '../migrations'),
  async build(runtime, config) {
    const app = createServiceServer(runtime);
    await app.register(formbody);
    const ctx: RegistrationContext = { db: runtime.database.db, publicUrl: config.publicUrl, verifyEmailTtlSec: config.verifyEmailTtlSec, verificationEmailsPerMailboxPerHour: config.verificationEmailsPerMailboxPerHour };
    const throttles = new AccountThrottles(runtime.database.db, config);
    const currentPasswords = new CurrentPasswordCheck(runtime.database.db);
    const resetJob = new ResetRequestJob({ db: runtime.database.db, publicUrl: config.publicUrl, logger: runtime.logger, onEnqueued: () => runtime.relay.kick() });
    // Before the routes, so that it covers them.
    refuseForeignFormPosts(app, config.publicUrl);
    registrationRoutes(app, runtime, ctx, throttles);
    profileRoutes(app, runtime, ctx, throttles, currentPasswords);
    passwordChangeRoutes(app, runtime, throttles, currentPasswords);
    accountRoutes(app, runtime);
    verificationRoutes(app, runtime, ctx);
    passwordResetRoutes(app, runtime, resetJob, throttles);
    adminRoutes(app, runtime);
    credentialRoutes(app, runtime, { checksPerMinute: config.credentialChecksPerMinute });
    return { app, extra: { resetJob }, close: () => resetJob.stop() };
  },
  async onStart(runtime, config, { resetJob }) {
    resetJob.start();
    await backfillLoginKeys(runtime.database.db, runtime.logger);
    await bootstrapAdmin(runtime, { username: config.bootstrapAdminUsername, email: config.bootstrapAdminEmail, password: config.bootstrapAdminPassword, passwordFile: config.bootstrapAdminPasswordFile });
  },
});
