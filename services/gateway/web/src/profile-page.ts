// The signed-in person's own account (GET /users/me): change the display name (PATCH /users/me),
// the email address (PATCH with the current password; the new address takes over once its emailed
// link is followed, and the link can be sent again: POST /users/me/verify-email) and the password (POST /users/me/password, which ends every session: the
// person signs in again). Each refusal is shown on the field the API names.
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { liveInboxOf } from './live-inbox.ts';
import { clearFormErrors, inputField, showFormError, type FormField } from './form-field.ts';
import type { Session } from './session.ts';
import { meetsPasswordRules } from './password-rules.ts';
import { passwordRulesList } from './password-rules-list.ts';
import { timeElement } from './time-element.ts';

type Me = ResponseData<'/users/me', 'get'>;

export function profilePage(paymesh: Paymesh, session: Session): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' }, 'Loading your profile…');
  const body = h('div');
  const section = h('section', { 'aria-labelledby': 'profile-heading', class: 'narrow' }, h('h1', { id: 'profile-heading' }, 'Profile'), status, body);

  const show = (me: Me) => {
    const summary = h('dl', { class: 'summary' },
      h('dt', {}, 'Username'), h('dd', { 'data-testid': 'profile-username' }, me.username ?? '—'),
      h('dt', {}, 'Display name'), h('dd', {}, me.display_name ?? 'None yet'),
      h('dt', {}, 'Email address'), h('dd', {}, me.email ?? '—', ' ', h('span', { class: me.email_verified ? 'badge ok' : 'badge' }, me.email_verified ? 'Confirmed' : 'Not confirmed yet')),
      me.pending_email === null ? null : h('dt', {}, 'Waiting for confirmation'),
      me.pending_email === null ? null : h('dd', {}, `${me.pending_email}: follow the link we sent there to make it your address.`),
      h('dt', {}, 'Member since'), h('dd', {}, timeElement(new Date(me.created_at))));
    const waiting = me.pending_email ?? (me.email_verified ? null : me.email);
    body.replaceChildren(summary, ...(waiting === null ? [] : [resendLink(waiting)]), displayNameForm(me), emailForm(me), passwordForm(me));
  };

  /** The confirmation link again, to the address waiting for it (a lost or expired email). */
  const resendLink = (address: string) => {
    const button = h('button', { type: 'button' }, 'Send the confirmation link again');
    button.addEventListener('click', () => void (async () => {
      button.disabled = true;
      try {
        await paymesh.post('/users/me/verify-email');
        status.textContent = `A new confirmation link is on its way to ${address}.`;
      } catch (error) {
        status.textContent = errorSentence(error);
      } finally {
        button.disabled = false;
      }
    })());
    return h('p', {}, button);
  };

  const saved = (me: Me, sentence: string) => {
    show(me);
    status.textContent = sentence;
  };

  const displayNameForm = (me: Me) => {
    const fields = { display_name: inputField('profile-name', 'display_name', 'Display name', { type: 'text', autocomplete: 'name', maxlength: '100', value: me.display_name ?? '' }, 'How Paymesh addresses you. Leave it empty for none.') };
    return accountForm('profile-name', 'Display name', 'Save display name', fields, async () => {
      const value = fields.display_name.control.value.trim();
      const updated = await paymesh.patch('/users/me', { body: { display_name: value === '' ? null : value } });
      saved(updated, 'Your display name is saved.');
    });
  };

  const emailForm = (me: Me) => {
    const fields = {
      email: inputField('profile-email', 'email', 'New email address', { type: 'email', autocomplete: 'email', required: true, maxlength: '254', value: me.pending_email ?? me.email ?? '' }),
      current_password: inputField('profile-email', 'current_password', 'Current password', { type: 'password', autocomplete: 'current-password', required: true, maxlength: '1024' }, 'Your address is how your account is recovered, so changing it asks for your password.'),
    };
    return accountForm('profile-email', 'Email address', 'Change email address', fields, async () => {
      const email = fields.email.control.value.trim();
      if (email === '') return void fields.email.setError('Enter the new address.');
      if (fields.current_password.control.value === '') return void fields.current_password.setError('Enter your current password.');
      const updated = await paymesh.patch('/users/me', { body: { email, current_password: fields.current_password.control.value } });
      saved(updated, updated.pending_email === null ? 'Your email address is unchanged.' : `A link to confirm ${updated.pending_email} is on its way. Until you follow it, mail goes to ${updated.email ?? 'your current address'}.`);
    });
  };

  const passwordForm = (me: Me) => {
    const fields = {
      current_password: inputField('profile-password', 'current_password', 'Current password', { type: 'password', autocomplete: 'current-password', required: true, maxlength: '1024' }),
      new_password: inputField('profile-password', 'new_password', 'New password', { type: 'password', autocomplete: 'new-password', required: true, maxlength: '1024' },
        (input) => passwordRulesList(input, () => ({ username: me.username ?? undefined, email: me.email ?? undefined }))),
    };
    const form = accountForm('profile-password', 'Password', 'Change password', fields, async () => {
      if (fields.current_password.control.value === '') return void fields.current_password.setError('Enter your current password.');
      if (!meetsPasswordRules(fields.new_password.control.value, { username: me.username ?? undefined, email: me.email ?? undefined })) return void fields.new_password.setError('The new password does not meet the rules listed above.');
      // The change ends this session's tokens: the live stream is stopped first, so that its end
      // (token revoked) does not take the page to "session ended" before it says what happened.
      // A refused change leaves it stopped until the next page, whose header starts it again.
      liveInboxOf(paymesh).stop();
      await paymesh.post('/users/me/password', { body: { current_password: fields.current_password.control.value, new_password: fields.new_password.control.value } });
      // Every token of the person ended with the change, this page's included: nothing more can be
      // asked of the API until they sign in again.
      status.textContent = '';
      body.replaceChildren(
        h('h2', { tabindex: '-1', id: 'password-changed' }, 'Your password was changed'),
        h('p', { role: 'status' }, 'Every session was signed out, this one included. Sign in again with your new password.'),
        h('button', { type: 'button', class: 'primary', onclick: () => void session.signIn('/app/settings/profile').catch((error: unknown) => void (status.textContent = errorSentence(error))) }, 'Sign in again'));
      body.querySelector('h2')?.focus();
    });
    return form;
  };

  void (async () => {
    try {
      const me = await paymesh.get('/users/me');
      status.textContent = '';
      show(me);
    } catch (error) {
      status.textContent = '';
      body.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  })();
  return section;
}

/** A form of the page: its heading names it, its fields show their own errors, its button says when it is busy. */
function accountForm(idPrefix: string, heading: string, action: string, fields: Record<string, FormField>, send: () => Promise<void>): HTMLElement {
  const alert = h('p', { role: 'alert', class: 'error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, action);
  const form = h('form', { novalidate: true, 'aria-labelledby': `${idPrefix}-heading`, class: 'card' },
    h('h2', { id: `${idPrefix}-heading` }, heading), ...Object.values(fields).map((field) => field.element), alert, submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      clearFormErrors(fields, alert);
      submit.disabled = true;
      try {
        await send();
      } catch (error) {
        showFormError(error, fields, alert);
      } finally {
        submit.disabled = false;
      }
    })();
  });
  return form;
}
