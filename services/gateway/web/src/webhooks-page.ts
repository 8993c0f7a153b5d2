// Webhook endpoints (/app/settings/webhooks): the signed-in person's endpoints (GET
// /notifications/webhooks), a form to add one (its URL and the event types it receives), the
// signing secret shown once after adding or rotating, and per endpoint: its deliveries, rotate the
// secret, enable or disable, delete.
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { clearFormErrors, inputField, showFormError } from './form-field.ts';
import { confirmDialog } from './modal-dialog.ts';
import { signingSecretPanel } from './signing-secret-panel.ts';
import { timeElement } from './time-element.ts';
import { eventTypeLabel, webhookEventTypes } from './webhook-event-types.ts';

type Endpoint = ResponseData<'/notifications/webhooks', 'get'>['data'][number];

export function webhooksPage(paymesh: Paymesh): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const problem = h('p', { role: 'alert', class: 'error' });
  const secretSlot = h('div');
  const results = h('div');

  // The form: URL, an optional description, the event types as checkboxes.
  const url = inputField('webhook', 'url', 'Endpoint URL', { type: 'url', required: true, autocomplete: 'off', inputmode: 'url' }, 'An https address of yours that answers Paymesh\'s POSTs with a 2xx status.');
  const description = inputField('webhook', 'description', 'Description (optional)', { type: 'text', maxlength: '500' });
  const typesError = h('p', { id: 'webhook-event-types-error', class: 'field-error' });
  const boxes = webhookEventTypes.map(({ type, label }) => {
    const box = h('input', { type: 'checkbox', id: `webhook-type-${type === '*' ? 'all' : type.replace(/\./g, '-')}`, name: 'event_types', value: type, 'aria-describedby': 'webhook-event-types-error' });
    return { type, box, element: h('div', { class: 'checkbox-row' }, box, h('label', { for: box.id }, label, ' ', h('code', {}, type))) };
  });
  const typesField = {
    element: h('fieldset', { class: 'event-types' }, h('legend', {}, 'Events to send'), ...boxes.map((b) => b.element), typesError),
    control: boxes[0]!.box,
    setError(message: string | undefined) {
      typesError.textContent = message ?? '';
      for (const { box } of boxes) if (message === undefined) box.removeAttribute('aria-invalid'); else box.setAttribute('aria-invalid', 'true');
    },
  };
  const fields = { url, description, event_types: typesField };
  const formAlert = h('p', { role: 'alert', class: 'error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add endpoint');
  const form = h('form', { class: 'card', 'aria-labelledby': 'add-webhook-heading', novalidate: true },
    h('h2', { id: 'add-webhook-heading' }, 'Add an endpoint'),
    url.element, description.element, typesField.element, formAlert, submit);

  const section = h('section', { 'aria-labelledby': 'webhooks-heading', class: 'webhooks' },
    h('h1', { id: 'webhooks-heading' }, 'Webhook endpoints'),
    h('p', {}, 'Paymesh POSTs each event you choose to your endpoints, signed with the endpoint\'s secret. ', h('a', { href: '/app/settings/notifications' }, 'Notification preferences')),
    status, problem, secretSlot, h('h2', {}, 'Your endpoints'), results, form);

  const showSecret = (endpointUrl: string, secret: string) => {
    const panel = signingSecretPanel(endpointUrl, secret, () => { secretSlot.replaceChildren(); results.querySelector('button')?.focus(); });
    secretSlot.replaceChildren(panel.element);
    panel.focus();
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      clearFormErrors(fields, formAlert);
      const eventTypes = boxes.filter(({ box }) => box.checked).map(({ type }) => type);
      if (url.control.value.trim() === '') { url.setError('Enter the address Paymesh should send events to.'); url.control.focus(); return; }
      if (eventTypes.length === 0) { typesField.setError('Choose at least one event to send.'); boxes[0]!.box.focus(); return; }
      submit.disabled = true;
      status.textContent = 'Adding the endpoint…';
      try {
        const created = await paymesh.post('/notifications/webhooks', { body: { url: url.control.value.trim(), event_types: eventTypes, ...(description.control.value.trim() === '' ? {} : { description: description.control.value.trim() }) } });
        form.reset();
        status.textContent = `Added ${created.url}.`;
        await load(false);
        showSecret(created.url, created.secret);
      } catch (error) {
        status.textContent = '';
        showFormError(error, fields, formAlert);
      } finally {
        submit.disabled = false;
      }
    })();
  });

  const act = async (doing: string, done: string, action: () => Promise<void>) => {
    problem.textContent = '';
    status.textContent = doing;
    try {
      await action();
      status.textContent = done;
    } catch (error) {
      status.textContent = '';
      problem.textContent = errorSentence(error);
    }
  };

  const named = (visible: string, endpoint: Endpoint) => [visible, h('span', { class: 'visually-hidden' }, ` ${endpoint.url}`)];

  const row = (endpoint: Endpoint): HTMLElement => {
    const enabled = endpoint.status === 'enabled';
    const rotate = h('button', { type: 'button', onclick: () => void (async () => {
      const ok = await confirmDialog('Rotate the signing secret?', `A new secret signs the events sent to ${endpoint.url} from now on; the current one keeps signing too for 24 hours, so your receiver can switch over.`, 'Rotate secret');
      if (!ok) return;
      await act('Rotating the secret…', `The secret of ${endpoint.url} was rotated.`, async () => {
        const rotated = await paymesh.post('/notifications/webhooks/{id}/rotate_secret', { params: { path: { id: endpoint.id } }, body: {} });
        await load(false);
        showSecret(rotated.url, rotated.secret);
      });
    })() }, ...named('Rotate secret', endpoint));
    const toggle = h('button', { type: 'button', onclick: () => void act(enabled ? 'Disabling…' : 'Enabling…', `${endpoint.url} is ${enabled ? 'disabled' : 'enabled'}.`, async () => {
      await paymesh.patch('/notifications/webhooks/{id}', { params: { path: { id: endpoint.id } }, body: { disabled: enabled } });
      await load(false);
    }) }, ...named(enabled ? 'Disable' : 'Enable', endpoint));
    const remove = h('button', { type: 'button', class: 'danger', onclick: () => void (async () => {
      const ok = await confirmDialog('Delete this endpoint?', `Nothing more will be sent to ${endpoint.url}, and deliveries still due to it are canceled.`, 'Delete endpoint');
      if (!ok) return;
      await act('Deleting the endpoint…', `Deleted ${endpoint.url}.`, async () => {
        await paymesh.delete('/notifications/webhooks/{id}', { params: { path: { id: endpoint.id } } });
        secretSlot.replaceChildren();
        await load(false);
      });
    })() }, ...named('Delete', endpoint));
    return h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `/app/settings/webhooks/${encodeURIComponent(endpoint.id)}`, class: 'wrap' }, endpoint.url), endpoint.description === null ? null : h('div', { class: 'field-hint' }, endpoint.description)),
      h('td', {}, endpoint.event_types.map(eventTypeLabel).join(', ')),
      h('td', {}, h('span', { class: enabled ? 'badge ok' : 'badge' }, enabled ? 'Enabled' : 'Disabled')),
      h('td', {}, timeElement(new Date(endpoint.created_at))),
      h('td', {}, h('div', { class: 'row-actions' }, rotate, toggle, remove)));
  };

  const load = async (announce = true) => {
    if (announce) status.textContent = 'Loading your endpoints…';
    try {
      const list = await paymesh.get('/notifications/webhooks');
      if (announce) status.textContent = '';
      if (list.data.length === 0) {
        results.replaceChildren(h('p', {}, 'You have no webhook endpoints yet. Add one below.'));
        return;
      }
      results.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Your webhook endpoints (scrolls sideways on a narrow screen)' }, h('table', {},
        h('caption', {}, 'Your webhook endpoints'),
        h('thead', {}, h('tr', {}, ...['URL', 'Events', 'Status', 'Added', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...list.data.map(row)))));
    } catch (error) {
      if (announce) status.textContent = '';
      problem.textContent = errorSentence(error);
    }
  };
  void load();
  return section;
}
