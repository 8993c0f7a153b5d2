// Sending a verification link, under a cap per account: nobody can use us to flood a mailbox, by
// asking for resends or by changing the address back and forth.
import type { Db } from '@paymesh/platform/db/open-database';
import { tokensIssuedSince } from '../tokens/user-tokens.ts';
import { requestEmailVerification, type RegistrationContext } from './create-user.ts';

/** Verification links one account may have sent in an hour (resends and email changes alike). */
export const verificationLinksPerHour = 5;

/** Sends a link for `address` unless the account had its hourly share; call it in a transaction. */
export async function sendVerificationLink(tx: Db, ctx: RegistrationContext, userId: string, address: string): Promise<void> {
  if ((await tokensIssuedSince(tx, userId, 'verify_email', 3600)) >= verificationLinksPerHour) return;
  await requestEmailVerification(tx, ctx, userId, address);
}
