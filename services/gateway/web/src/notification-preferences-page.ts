// Notification preferences: every type of the catalogue × the channels it is sent on (GET
// /notifications/preferences), each a checkbox saved as soon as it changes (PATCH). Security
// messages are locked on: their boxes are disabled, and the row says why.
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';

type Preferences = ResponseData<'/notifications/preferences', 'get'>;
type Channel = 'in_app' | 'email' | 'push';

const channels: readonly { readonly channel: Channel; readonly label: string }[] = [
  { channel: 'in_app', label: 'Inbox' },
  { channel: 'email', label: 'Email' },
  { channel: 'push', label: 'Push' },
];

const lockedReason = 'Security message: always sent, cannot be switched off.';

export function notificationPreferencesPage(paymesh: Paymesh): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const problem = h('p', { role: 'alert', class: 'error' });
  const results = h('div');
  const section = h('section', { 'aria-labelledby': 'preferences-heading' },
    h('h1', { id: 'preferences-heading' }, 'Notification preferences'),
    h('p', {}, 'Choose how each kind of notification reaches you. A change is saved at once.'),
    h('p', {}, 'Also: ', h('a', { href: '/app/settings/webhooks' }, 'Webhook endpoints'), ' · ', h('a', { href: '/app/settings/devices' }, 'Push devices')),
    status, problem, results);

  const table = (preferences: Preferences): HTMLElement => {
    const rows = preferences.types.map((type, index) => {
      const reasonId = `preference-locked-${index}`;
      const cells = channels.map(({ channel, label }) => {
        const enabled = type.channels[channel];
        if (enabled === undefined) return h('td', { class: 'preference-cell' }, h('span', { 'aria-hidden': 'true' }, '—'), h('span', { class: 'visually-hidden' }, `Not sent by ${label.toLowerCase()}`));
        const box = h('input', {
          type: 'checkbox',
          'aria-label': `${label}: ${type.description}`,
          checked: enabled,
          disabled: type.locked,
          ...(type.locked ? { 'aria-describedby': reasonId } : {}),
        });
        box.addEventListener('change', () => void save(box, type.type, channel, label, type.description));
        return h('td', { class: 'preference-cell' }, box);
      });
      return h('tr', {},
        h('th', { scope: 'row' }, type.description, type.locked ? h('span', { id: reasonId, class: 'preference-locked' }, lockedReason) : null),
        ...cells);
    });
    return h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Notification channels by type' }, h('table', { class: 'preferences' },
      h('caption', {}, 'Notifications by channel'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Notification'), ...channels.map(({ label }) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, ...rows)));
  };

  const save = async (box: HTMLInputElement, type: string, channel: Channel, label: string, description: string) => {
    const enabled = box.checked;
    problem.textContent = '';
    status.textContent = 'Saving…';
    box.disabled = true;
    try {
      await paymesh.patch('/notifications/preferences', { body: { [type]: { [channel]: enabled } } });
      status.textContent = `Saved: ${label.toLowerCase()} ${enabled ? 'on' : 'off'} for “${description}”`;
    } catch (error) {
      box.checked = !enabled;
      status.textContent = '';
      problem.textContent = errorSentence(error);
    } finally {
      box.disabled = false;
      box.focus();
    }
  };

  const load = async () => {
    status.textContent = 'Loading your preferences…';
    try {
      const preferences = await paymesh.get('/notifications/preferences');
      status.textContent = '';
      results.replaceChildren(table(preferences));
    } catch (error) {
      status.textContent = '';
      problem.textContent = errorSentence(error);
    }
  };
  void load();
  return section;
}
