// The inbox owns its "inbox changed" announcement: every change to a user's inbox publishes it
// through the outbox, in the transaction that makes the change. live/ subscribes to it and reads.
import type { Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { InboxChanged } from '../events.ts';

/** Call in the transaction that changes a user's inbox. */
export async function announceInboxChange(tx: Db, recipientId: string): Promise<void> {
  await enqueue(tx, InboxChanged, { recipient_id: recipientId });
}
