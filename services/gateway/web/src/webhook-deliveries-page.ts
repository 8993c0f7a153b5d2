// One webhook endpoint's deliveries (/app/settings/webhooks/:id): GET
// /notifications/webhooks/:id/deliveries, newest first, with each one's status, attempts and dates;
// a failed one (dead: its retries ran out, or the receiver refused it outright) can be redelivered now (POST
// /notifications/deliveries/:id/redeliver), and the list follows it until it settles.
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { timeElement } from './time-element.ts';
import { eventTypeLabel } from './webhook-event-types.ts';

type Delivery = ResponseData<'/notifications/webhooks/{id}/deliveries', 'get'>['data'][number];

const pageSize = 20;

/** "Delivered", "Failed", "Failed, retrying" …: what a delivery's status means to a person. */
export function deliveryStatusWords(delivery: Pick<Delivery, 'status' | 'last_error'>): string {
  switch (delivery.status) {
    case 'delivered': return 'Delivered';
    case 'dead': return 'Failed';
    case 'canceled': return 'Canceled';
    default: return delivery.last_error === null ? 'Sending' : 'Failed, will retry';
  }
}

// Only a dead delivery is queued again (a pending one is retried on its own schedule).
const failed = (delivery: Delivery) => delivery.status === 'dead';

export function webhookDeliveriesPage(paymesh: Paymesh, endpointId: string): HTMLElement {
  const heading = h('h1', { id: 'deliveries-heading' }, 'Webhook deliveries');
  const target = h('p', {});
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const problem = h('p', { role: 'alert', class: 'error' });
  const results = h('div');
  const refresh = h('button', { type: 'button', onclick: () => void load() }, 'Refresh');
  const section = h('section', { 'aria-labelledby': 'deliveries-heading' },
    h('p', {}, h('a', { href: '/app/settings/webhooks' }, 'All webhook endpoints')),
    heading, target, h('div', { class: 'actions' }, refresh), status, problem, results);
  let shown = pageSize;
  let following: ReturnType<typeof setTimeout> | undefined;

  const row = (delivery: Delivery): HTMLElement => h('tr', {},
    h('td', {}, eventTypeLabel(delivery.type), h('div', { class: 'field-hint' }, h('code', {}, delivery.id))),
    h('td', {}, h('span', { class: delivery.status === 'delivered' ? 'badge ok' : 'badge' }, deliveryStatusWords(delivery)),
      delivery.last_error === null || delivery.status === 'delivered' ? null : h('div', { class: 'field-hint wrap' }, delivery.last_error)),
    h('td', { class: 'amount' }, String(delivery.attempts)),
    h('td', {}, timeElement(new Date(delivery.created_at)),
      delivery.delivered_at !== null ? h('div', { class: 'field-hint' }, 'delivered ', timeElement(new Date(delivery.delivered_at))) : null,
      delivery.status === 'pending' && delivery.next_attempt_at !== null && delivery.last_error !== null ? h('div', { class: 'field-hint' }, 'next try ', timeElement(new Date(delivery.next_attempt_at))) : null),
    h('td', {}, failed(delivery)
      ? h('button', { type: 'button', onclick: (event) => void redeliver(delivery, event.currentTarget as HTMLButtonElement) }, 'Redeliver', h('span', { class: 'visually-hidden' }, ` ${eventTypeLabel(delivery.type)}, ${delivery.id}`))
      : null));

  const redeliver = async (delivery: Delivery, button: HTMLButtonElement) => {
    problem.textContent = '';
    button.disabled = true;
    status.textContent = 'Asking for a redelivery…';
    try {
      await paymesh.post('/notifications/deliveries/{id}/redeliver', { params: { path: { id: delivery.id } } });
      status.textContent = 'Redelivery queued: the list follows it.';
      follow(delivery.id, 10);
    } catch (error) {
      status.textContent = '';
      problem.textContent = errorSentence(error);
      button.disabled = false;
    }
  };

  /** Reloads every second until the delivery is no longer being sent (at most `times` times). */
  const follow = (deliveryId: string, times: number) => {
    clearTimeout(following);
    following = setTimeout(() => void (async () => {
      if (!section.isConnected) return;
      const deliveries = await load(false);
      const delivery = deliveries?.find((d) => d.id === deliveryId);
      if (delivery !== undefined && delivery.status !== 'pending') status.textContent = `Redelivery: ${deliveryStatusWords(delivery).toLowerCase()}.`;
      else if (times > 1) follow(deliveryId, times - 1);
    })(), 1000);
  };

  const load = async (announce = true): Promise<Delivery[] | undefined> => {
    if (announce) status.textContent = 'Loading deliveries…';
    try {
      const [endpoint, list] = await Promise.all([
        paymesh.get('/notifications/webhooks/{id}', { params: { path: { id: endpointId } } }),
        paymesh.get('/notifications/webhooks/{id}/deliveries', { params: { path: { id: endpointId }, query: { limit: String(shown) } } }),
      ]);
      heading.textContent = `Webhook deliveries`;
      target.replaceChildren('To ', h('code', { class: 'wrap' }, endpoint.url), endpoint.status === 'disabled' ? ' (disabled: nothing is sent to it)' : '');
      if (announce) status.textContent = list.data.length === 0 ? 'Nothing has been sent to this endpoint yet.' : '';
      if (list.data.length === 0) { results.replaceChildren(); return list.data; }
      const more = list.has_more && shown < 100 ? h('button', { type: 'button', onclick: () => { shown += pageSize; void load(); } }, 'Show older deliveries') : null;
      results.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Deliveries (scrolls sideways on a narrow screen)' }, h('table', {},
        h('caption', {}, 'Deliveries to this endpoint'),
        h('thead', {}, h('tr', {}, ...['Event', 'Status', 'Attempts', 'Sent', 'Action'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...list.data.map(row)))), more ?? '');
      return list.data;
    } catch (error) {
      if (announce) status.textContent = '';
      problem.textContent = errorSentence(error);
      return undefined;
    }
  };
  void load();
  return section;
}
