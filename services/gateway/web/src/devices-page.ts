// Push devices (/app/settings/devices): the phones and browsers that receive the signed-in person's
// push notifications (GET /notifications/devices), each removable (DELETE). A device registers
// itself (an app, or a browser's push subscription), so there is nothing to add here.
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { confirmDialog } from './modal-dialog.ts';
import { timeElement } from './time-element.ts';

type Device = ResponseData<'/notifications/devices', 'get'>['data'][number];

const platformWords: Record<Device['platform'], string> = { ios: 'iPhone or iPad', android: 'Android', web: 'Web browser' };

export function devicesPage(paymesh: Paymesh): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const problem = h('p', { role: 'alert', class: 'error' });
  const results = h('div');
  const section = h('section', { 'aria-labelledby': 'devices-heading' },
    h('h1', { id: 'devices-heading', tabindex: '-1' }, 'Push devices'),
    h('p', {}, 'The phones and browsers that receive your push notifications. Remove one you no longer use. ', h('a', { href: '/app/settings/notifications' }, 'Notification preferences')),
    status, problem, results);

  const remove = async (device: Device) => {
    const name = `${platformWords[device.platform]} ending in ${device.token_suffix}`;
    if (!await confirmDialog('Remove this device?', `${name} will no longer receive push notifications until it registers again.`, 'Remove device')) return;
    problem.textContent = '';
    status.textContent = 'Removing the device…';
    try {
      await paymesh.delete('/notifications/devices/{id}', { params: { path: { id: device.id } } });
      await load(false);
      status.textContent = `Removed the ${name}.`;
      section.querySelector<HTMLElement>('h1')?.focus();
    } catch (error) {
      status.textContent = '';
      problem.textContent = errorSentence(error);
    }
  };

  const load = async (announce = true) => {
    if (announce) status.textContent = 'Loading your devices…';
    try {
      const list = await paymesh.get('/notifications/devices');
      if (announce) status.textContent = '';
      if (list.data.length === 0) {
        results.replaceChildren(h('p', {}, 'No device receives your push notifications. A phone or browser is added when you allow Paymesh\'s notifications on it.'));
        return;
      }
      results.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Your devices (scrolls sideways on a narrow screen)' }, h('table', {},
        h('caption', {}, 'Your push devices'),
        h('thead', {}, h('tr', {}, ...['Device', 'Token ends in', 'Added', 'Action'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...list.data.map((device) => h('tr', {},
          h('th', { scope: 'row' }, platformWords[device.platform]),
          h('td', {}, h('code', {}, `…${device.token_suffix}`)),
          h('td', {}, timeElement(new Date(device.created_at))),
          h('td', {}, h('button', { type: 'button', class: 'danger', onclick: () => void remove(device) }, 'Remove', h('span', { class: 'visually-hidden' }, ` ${platformWords[device.platform]} ending in ${device.token_suffix}`)))))))));
    } catch (error) {
      if (announce) status.textContent = '';
      problem.textContent = errorSentence(error);
    }
  };
  void load();
  return section;
}
