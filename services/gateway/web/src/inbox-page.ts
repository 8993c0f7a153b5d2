// The inbox (GET /notifications, newest first, a page at a time after the last id shown): mark one
// read or unread (PATCH), all read (POST mark_all_read), delete (DELETE); new notifications join
// the first page live, from the session's one stream (live-inbox.ts), without a reload.
import type { Paymesh } from '@paymesh/sdk';
import { PaymeshError } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { formatMoney } from './format-money.ts';
import { timeElement } from './time-element.ts';
import type { LiveInbox, Notification } from './live-inbox.ts';

const pageSize = 20;

export function inboxPage(paymesh: Paymesh, inbox: LiveInbox): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  // New arrivals are announced here (the list itself is not a live region: it would read it all).
  const announcer = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const problem = h('p', { role: 'alert', class: 'error' });
  const list = h('ul', { class: 'inbox', 'aria-label': 'Notifications' });
  const pager = h('nav', { 'aria-label': 'Inbox pages', class: 'pager' });
  const markAll = h('button', { type: 'button', onclick: () => void markAllRead() }, 'Mark all as read');
  const section = h('section', { 'aria-labelledby': 'inbox-heading' },
    h('div', { class: 'inbox-head' }, h('h1', { id: 'inbox-heading' }, 'Inbox'), markAll,
      h('a', { href: '/app/settings/notifications' }, 'Notification preferences')),
    status, announcer, problem, list, pager);

  const cursors: (string | undefined)[] = [undefined];
  let pageIndex = 0;
  /** What the list shows, by id (ids grow with time: the newest has the largest). */
  const shown = new Map<number, Notification>();
  let loaded = false;
  const arrivedWhileLoading: Notification[] = [];

  const say = (sentence: string) => void (problem.textContent = sentence);
  const fail = (error: unknown) => say(errorSentence(error));

  const describeCount = () => {
    if (shown.size === 0) status.textContent = pageIndex === 0 ? 'Your inbox is empty.' : 'No more notifications.';
    else status.textContent = `Showing ${shown.size} notification${shown.size === 1 ? '' : 's'}${pageIndex > 0 ? `, page ${pageIndex + 1}` : ''}.`;
  };

  const renderList = () => {
    const items = [...shown.values()].sort((a, b) => b.id - a.id).map(item);
    list.replaceChildren(...items);
    list.hidden = items.length === 0;
    describeCount();
  };

  const item = (notification: Notification): HTMLElement => {
    const sent = new Date(notification.sent_at);
    const unread = notification.read_at === null;
    const heading = notification.title ?? 'Notification';
    const amount = notification.data.amount;
    const currency = notification.data.currency;
    const toggle = h('button', { type: 'button', onclick: () => void setRead(notification, unread) },
      unread ? 'Mark as read' : 'Mark as unread', h('span', { class: 'visually-hidden' }, `: ${heading}`));
    const remove = h('button', { type: 'button', class: 'danger', onclick: () => void deleteOne(notification) },
      'Delete', h('span', { class: 'visually-hidden' }, `: ${heading}`));
    return h('li', { class: unread ? 'notification unread' : 'notification', 'data-id': String(notification.id) },
      h('div', { class: 'notification-text' },
        h('p', { class: 'notification-title' },
          unread ? h('span', { class: 'unread-dot' }, h('span', { class: 'visually-hidden' }, 'Unread: ')) : null,
          h('strong', {}, heading)),
        h('p', {}, notification.message),
        h('p', { class: 'notification-meta' },
          timeElement(sent),
          typeof amount === 'number' && typeof currency === 'string' ? ` · ${formatMoney(amount, currency)}` : null)),
      h('div', { class: 'notification-actions' }, toggle, remove));
  };

  const show = async (index: number) => {
    pageIndex = index;
    loaded = false;
    status.textContent = 'Loading notifications…';
    say('');
    list.replaceChildren();
    pager.replaceChildren();
    try {
      await inbox.ready;
      const startingAfter = cursors[index];
      const { data, error, response } = await paymesh.client.GET('/notifications', {
        params: { query: { limit: String(pageSize), ...(startingAfter === undefined ? {} : { starting_after: startingAfter }) } },
      });
      if (!response.ok || data === undefined) throw PaymeshError.from(response, error);
      shown.clear();
      for (const notification of data) shown.set(notification.id, notification);
      loaded = true;
      if (index === 0) for (const notification of arrivedWhileLoading.splice(0)) shown.set(notification.id, notification);
      renderList();
      if (index > 0) pager.append(h('button', { type: 'button', onclick: () => void show(index - 1) }, 'Newer'));
      if (response.headers.get('paymesh-has-more') === 'true' && data.length > 0) {
        cursors[index + 1] = String(data.at(-1)!.id);
        pager.append(h('button', { type: 'button', onclick: () => void show(index + 1) }, 'Older'));
      }
    } catch (error) {
      status.textContent = '';
      fail(error);
    }
  };

  // Live: a new notification joins the first page (the newest); on an older page it is announced only.
  inbox.watch(section, (notification) => {
    announcer.textContent = `New notification: ${notification.title ?? notification.message}`;
    if (pageIndex !== 0) return;
    if (!loaded) {
      arrivedWhileLoading.push(notification);
      return;
    }
    shown.set(notification.id, notification);
    renderList();
  });

  const setRead = async (notification: Notification, read: boolean) => {
    say('');
    try {
      const updated = await paymesh.patch('/notifications/{id}', { params: { path: { id: String(notification.id) } }, body: { read } });
      shown.set(updated.id, updated);
      renderList();
      list.querySelector<HTMLElement>(`li[data-id="${updated.id}"] button`)?.focus();
      void inbox.refreshCount().catch(fail);
    } catch (error) {
      fail(error);
    }
  };

  const deleteOne = async (notification: Notification) => {
    say('');
    try {
      await paymesh.delete('/notifications/{id}', { params: { path: { id: String(notification.id) } } });
      const ids = [...shown.keys()].sort((a, b) => b - a);
      const next = ids[ids.indexOf(notification.id) + 1] ?? ids[ids.indexOf(notification.id) - 1];
      shown.delete(notification.id);
      renderList();
      announcer.textContent = 'Notification deleted.';
      // Focus stays in the list (the next item's first button), or goes to the heading.
      const target = next === undefined ? undefined : list.querySelector<HTMLElement>(`li[data-id="${next}"] button`);
      (target ?? markAll).focus();
      void inbox.refreshCount().catch(fail);
    } catch (error) {
      fail(error);
    }
  };

  const markAllRead = async () => {
    say('');
    try {
      const { updated } = await paymesh.post('/notifications/mark_all_read');
      const now = new Date().toISOString();
      for (const [id, notification] of shown) if (notification.read_at === null) shown.set(id, { ...notification, read_at: now });
      renderList();
      announcer.textContent = updated === 0 ? 'Nothing was unread.' : `${updated} notification${updated === 1 ? '' : 's'} marked as read.`;
      void inbox.refreshCount().catch(fail);
    } catch (error) {
      fail(error);
    }
  };

  void show(0);
  return section;
}
