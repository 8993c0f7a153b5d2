// Admins: every account (GET /users), searched by a prefix of the username or email, filtered by
// status and role, a page at a time (cursor: the last id shown); each can be disabled or enabled
// (PATCH /users/:id) and deleted (DELETE /users/:id, after a confirmation).
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { confirmDialog } from './modal-dialog.ts';
import { timeElement } from './time-element.ts';

export type User = ResponseData<'/users/{id}', 'get'>;

const pageSize = 20;
export const userStatusWords: Record<string, string> = { active: 'Active', disabled: 'Disabled', deleted: 'Deleted' };

export function adminUsersPage(paymesh: Paymesh, query: URLSearchParams): HTMLElement {
  const q = h('input', { id: 'users-q', name: 'q', type: 'search', autocomplete: 'off', value: query.get('q') ?? '' });
  const statusFilter = h('select', { id: 'users-status', name: 'status' },
    ...[['', 'Active and disabled'], ['active', 'Active'], ['disabled', 'Disabled'], ['deleted', 'Deleted']].map(([value, label]) =>
      h('option', { value: value!, selected: (query.get('status') ?? '') === value }, label!)));
  const roleFilter = h('select', { id: 'users-role', name: 'role' },
    ...[['', 'Any role'], ['user', 'User'], ['admin', 'Admin']].map(([value, label]) =>
      h('option', { value: value!, selected: (query.get('role') ?? '') === value }, label!)));
  const form = h('form', { role: 'search', class: 'filters', 'aria-label': 'Users' },
    h('div', { class: 'field' }, h('label', { for: 'users-q' }, 'Username or email starts with'), q),
    h('div', { class: 'field' }, h('label', { for: 'users-status' }, 'Status'), statusFilter),
    h('div', { class: 'field' }, h('label', { for: 'users-role' }, 'Role'), roleFilter),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const results = h('div');
  const section = h('section', { 'aria-labelledby': 'users-heading' }, h('h1', { id: 'users-heading' }, 'Users'), form, status, results);
  const cursors: (string | undefined)[] = [undefined];

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // The filters go in the address (a reload or a shared link shows the same list).
    const params = new URLSearchParams();
    if (q.value.trim() !== '') params.set('q', q.value.trim());
    if (statusFilter.value !== '') params.set('status', statusFilter.value);
    if (roleFilter.value !== '') params.set('role', roleFilter.value);
    history.replaceState(null, '', `/app/admin/users${params.size > 0 ? `?${params}` : ''}`);
    cursors.length = 1;
    void show(0);
  });

  const filters = (): Record<string, string> => {
    const result: Record<string, string> = {};
    if (q.value.trim() !== '') result.q = q.value.trim();
    if (statusFilter.value !== '') result.status = statusFilter.value;
    if (roleFilter.value !== '') result.role = roleFilter.value;
    return result;
  };

  const show = async (pageIndex: number) => {
    status.textContent = 'Loading users…';
    results.replaceChildren();
    try {
      const startingAfter = cursors[pageIndex];
      const page = await paymesh.get('/users', { params: { query: { limit: String(pageSize), ...filters(), ...(startingAfter === undefined ? {} : { starting_after: startingAfter }) } } });
      if (page.data.length === 0) {
        status.textContent = pageIndex === 0 ? 'No user matches these filters.' : 'No more users.';
        return;
      }
      status.textContent = `Showing ${page.data.length} user${page.data.length === 1 ? '' : 's'}, page ${pageIndex + 1}.`;
      const table = h('table', {},
        h('caption', {}, 'Users'),
        h('thead', {}, h('tr', {}, ...['Username', 'Email', 'Role', 'Status', 'Created', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...page.data.map((user) => userRow(paymesh, user, () => void show(pageIndex)))));
      const nav = h('nav', { 'aria-label': 'Users pages', class: 'pager' });
      if (pageIndex > 0) nav.append(h('button', { type: 'button', onclick: () => void show(pageIndex - 1) }, 'Previous'));
      if (page.has_more) {
        cursors[pageIndex + 1] = String(page.data.at(-1)!.id);
        nav.append(h('button', { type: 'button', onclick: () => void show(pageIndex + 1) }, 'Next'));
      }
      results.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Users found' }, table), nav);
    } catch (error) {
      status.textContent = '';
      results.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  };
  void show(0);
  return section;
}

/** One account's row: its name links to its page; its buttons act on it and say what they did. */
function userRow(paymesh: Paymesh, user: User, reload: () => void): HTMLTableRowElement {
  const name = user.username ?? `User ${user.id}`;
  const row = h('tr');
  const feedback = h('span', { role: 'status', class: 'row-status' });
  const render = (current: User) => {
    const actions = h('td', { class: 'actions' });
    if (current.status !== 'deleted') {
      const disabling = current.status === 'active';
      actions.append(
        h('button', { type: 'button', 'aria-label': `${disabling ? 'Disable' : 'Enable'} ${name}`, onclick: (event) => void setStatus(event.currentTarget as HTMLButtonElement, disabling ? 'disabled' : 'active') }, disabling ? 'Disable' : 'Enable'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${name}`, onclick: () => void remove() }, 'Delete'));
    }
    actions.append(feedback);
    row.replaceChildren(
      h('td', {}, current.status === 'deleted' ? name : h('a', { href: `/app/admin/users/${current.id}` }, name)),
      h('td', {}, current.email ?? '—'),
      h('td', {}, current.role === 'admin' ? 'Admin' : 'User'),
      h('td', {}, userStatusWords[current.status] ?? current.status),
      h('td', {}, timeElement(new Date(current.created_at))),
      actions);
  };
  const setStatus = async (button: HTMLButtonElement, next: 'active' | 'disabled') => {
    button.disabled = true;
    feedback.textContent = '';
    try {
      const updated = await paymesh.patch('/users/{id}', { params: { path: { id: String(user.id) } }, body: { status: next } });
      render(updated);
      feedback.textContent = next === 'disabled' ? `${name} is disabled.` : `${name} is enabled.`;
      // The button changed; keep the keyboard where it was.
      row.querySelector<HTMLButtonElement>('td.actions button')?.focus();
    } catch (error) {
      button.disabled = false;
      feedback.textContent = errorSentence(error);
    }
  };
  const remove = async () => {
    if (!(await confirmDialog(`Delete ${name}?`, `${name}'s personal data will be erased and every session of theirs ended. This cannot be undone.`, `Delete ${name}`))) return;
    feedback.textContent = '';
    try {
      await paymesh.delete('/users/{id}', { params: { path: { id: String(user.id) } } });
      reload();
    } catch (error) {
      feedback.textContent = errorSentence(error);
    }
  };
  render(user);
  return row;
}
