// The events the notifications service publishes. Only itself follows them today; they are
// exported like every producer's (`@paymesh/notifications/events`) for the AsyncAPI document.
import { Type } from 'typebox';
import { defineEvent } from '@paymesh/platform/events/define-event';

export const InboxChanged = defineEvent({
  subject: 'inbox.changed', version: 1, producer: 'notifications',
  description: 'A user\'s inbox changed (a notification added, read, deleted): every replica refreshes the live streams it holds for them (a broadcast).',
  schema: Type.Object({ recipient_id: Type.String() }),
});
