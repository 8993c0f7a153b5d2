// The users service: identities (username, email, argon2id hash, role, status) and their
// lifecycle: registration, email verification, password reset, self-service, administration.
import { resolve } from 'node:path';
import formbody from '@fastify/formbody';
import type { ConfigOf } from '@paymesh/platform/config';
import type { Runtime } from '@paymesh/platform/runtime';
import { defineService } from '@paymesh/platform/service-declaration';
import { accountRoutes } from './accounts/account-routes.ts';
import { CurrentPasswordCheck } from './accounts/current-password-check.ts';
import { passwordChangeRoutes } from './accounts/password-change-routes.ts';
import { profileRoutes } from './accounts/profile-routes.ts';
import { registrationRoutes } from './accounts/registration-routes.ts';
import { backfillLoginKeys } from './accounts/backfill-login-keys.ts';
import { bootstrapAdmin } from './accounts/bootstrap-admin.ts';
import type { RegistrationContext } from './accounts/create-user.ts';
import { adminRoutes } from './admin/admin-routes.ts';
import { lookupRoutes } from './accounts/lookup-routes.ts';
import { credentialRoutes } from './credentials/credential-routes.ts';
import { usersConfigSpec } from './config.ts';
import { refuseForeignFormPosts } from './pages/account-pages.ts';
import { passwordResetRoutes } from './password-reset/password-reset-routes.ts';
import { ResetRequestJob } from './password-reset/reset-request-job.ts';
import { AccountThrottles } from './throttle/account-throttles.ts';
import { verificationRoutes } from './verification/verification-routes.ts';
import * as userEvents from './events.ts';
import { apiExamplesIn } from '@paymesh/platform/openapi/api-examples';

/** What the users routes and jobs share; built once by `context`. */
export interface UsersContext {
  readonly runtime: Runtime;
  readonly config: ConfigOf<typeof usersConfigSpec>;
  readonly registration: RegistrationContext;
  readonly throttles: AccountThrottles;
  readonly currentPasswords: CurrentPasswordCheck;
  readonly resetJob: ResetRequestJob;
}

export const usersService = defineService({
  name: 'users',
  api: {
    examples: apiExamplesIn(import.meta.dirname),
    title: 'Paymesh users',
    description: 'Accounts, credentials, profiles and roles.',
    tags: [
      { name: 'Users', description: 'Accounts: registration, profiles, administration.', prefix: '/users' },
      { name: 'Email verification', description: 'Proving an email address.', prefix: '/users/verify-email' },
      { name: 'Password reset', description: 'Resetting a forgotten password by an emailed link.', prefix: '/users/password-reset' },
    ],
    pages: ['GET /users/password-reset', 'GET /users/password-reset/confirm', 'GET /users/verify-email'],
    operationIds: {
      'GET /users/me': 'getCurrentUser',
      'PATCH /users/me': 'updateCurrentUser',
      'DELETE /users/me': 'deleteCurrentUser',
      'POST /users/me/password': 'changePassword',
      'POST /users/me/verify-email': 'sendVerificationEmail',
      'POST /users/verify-email': 'verifyEmail',
      'POST /users/password-reset': 'requestPasswordReset',
      'POST /users/password-reset/confirm': 'resetPassword',
      'POST /users/create_user': 'createUserLegacy',
      'POST /users/delete_user': 'deleteUserLegacy',
    },
  },
  config: usersConfigSpec,
  migrations: resolve(import.meta.dirname, '../migrations'),

  async context(runtime, config): Promise<UsersContext> {
    const { db } = runtime.database;
    return {
      runtime,
      config,
      registration: { db, publicUrl: config.publicUrl, verifyEmailTtlSec: config.verifyEmailTtlSec, verificationEmailsPerMailboxPerHour: config.verificationEmailsPerMailboxPerHour },
      throttles: new AccountThrottles(db, config),
      currentPasswords: new CurrentPasswordCheck(db),
      resetJob: new ResetRequestJob({ db, publicUrl: config.publicUrl, logger: runtime.logger }),
    };
  },

  async routes(app, { runtime, config, registration, throttles, currentPasswords, resetJob }) {
    await app.register(formbody);
    // Before the routes, so that it covers them.
    refuseForeignFormPosts(app, config.publicUrl);
    registrationRoutes(app, runtime, registration, throttles);
    profileRoutes(app, runtime, registration, throttles, currentPasswords);
    passwordChangeRoutes(app, runtime, throttles, currentPasswords);
    accountRoutes(app, runtime);
    verificationRoutes(app, runtime, registration);
    passwordResetRoutes(app, runtime, resetJob, throttles);
    adminRoutes(app, runtime);
    credentialRoutes(app, runtime, { checksPerMinute: config.credentialChecksPerMinute });
    lookupRoutes(app, runtime);
  },

  // Every contract in events.ts: user.*.
  publishes: Object.values(userEvents),

  consumes: () => [],

  jobs: [
    // Password reset requests recorded by another replica, or left by a crash; a request's own is
    // worked off at once (the route kicks the job after its response).
    { name: 'password reset requests', everyMs: 2_000, atStart: true, run: (ctx) => ctx.resetJob.pass(), settle: (ctx) => ctx.resetJob.drain() },
  ],

  async start({ runtime, config }) {
    await backfillLoginKeys(runtime.database.db, runtime.logger);
    await bootstrapAdmin(runtime, { username: config.bootstrapAdminUsername, email: config.bootstrapAdminEmail, password: config.bootstrapAdminPassword, passwordFile: config.bootstrapAdminPasswordFile });
  },

  async stop(ctx) {
    await ctx.resetJob.stop();
  },
});
