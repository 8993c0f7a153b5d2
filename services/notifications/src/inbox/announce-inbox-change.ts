// The inbox owns its "inbox changed" announcement: every change to a user's inbox publishes it
// through the outbox, in the transaction that makes the change. live/ subscribes to it and reads.
import type { Db } from '@paymesh/platform/db/open-database';
import { enqueue, enqueueMany } from '@paymesh/platform/events/enqueue';
import { InboxChanged } from '../events.ts';

/** Call in the transaction that changes a user's inbox. */
export async function announceInboxChange(tx: Db, recipientId: string): Promise<void> {
  await enqueue(tx, InboxChanged, { recipient_id: recipientId });
}

/** The same for several inboxes in one statement, each with the request id and trace of its change. */
export async function announceInboxChanges(tx: Db, changes: readonly { readonly recipientId: string; readonly requestId: string | undefined; readonly traceparent: string | undefined }[]): Promise<void> {
  await enqueueMany(tx, InboxChanged, changes.map((change) => ({ data: { recipient_id: change.recipientId }, requestId: change.requestId, traceparent: change.traceparent })));
}
