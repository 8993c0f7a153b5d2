// The inbox, as in the README: watch it live while paying, then read it and mark the notification
// read. The stream reconnects by itself after a drop (with Last-Event-ID); the AbortController
// ends it.
//   PAYMESH_URL=http://localhost:8080 node examples/05-inbox-and-stream.ts
import { signUp } from './sign-up.ts';

const { paymesh, userId } = await signUp();
const stop = new AbortController();
const giveUp = setTimeout(() => stop.abort(new Error('no notification within 15 s')), 15_000);

let paid = false;
let notificationId: string | undefined;
for await (const event of paymesh.streamInbox({ signal: stop.signal })) {
  if (event.type === 'unread_count') {
    console.log(`stream: ${event.unread} unread`);
    if (!paid) {
      paid = true;
      const payment = await paymesh.post('/payments', { body: { amount: 5, user_id: userId } });
      console.log(`paid ${payment.payment.id}; waiting for its notification…`);
    } else if (notificationId !== undefined) {
      stop.abort();
    }
  } else if (event.type === 'notification') {
    notificationId = event.id;
    console.log(`stream: notification ${event.id}: ${String(event.notification.message)}`);
  }
}
clearTimeout(giveUp);
if (notificationId === undefined) throw new Error('the stream ended without the payment\'s notification');

const inbox = await paymesh.get('/notifications', { params: { query: { unread: 'true' } } });
console.log(`GET /notifications?unread=true: ${inbox.length} notification(s)`);
const read = await paymesh.put('/notifications/{id}', { params: { path: { id: notificationId } } });
console.log(`marked ${notificationId} read: ${read.message}`);
const { unread } = await paymesh.get('/notifications/unread_count');
console.log(`unread now: ${unread}`);
if (unread !== 0) throw new Error(`expected 0 unread, got ${unread}`);
