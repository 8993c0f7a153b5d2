// Asking for a password-reset link (POST /users/password-reset, public). The answer is the same
// whether or not an account has the address; the emailed link opens the users service's own page
// (/users/password-reset/confirm), which sets the new password and links back here.
import { h } from './element.ts';
import { clearFormErrors, inputField, showFormError } from './form-field.ts';
import type { Paymesh } from '@paymesh/sdk';

export function forgotPasswordPage(paymesh: Paymesh): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'forgot-heading', class: 'narrow' });
  const fields = { email: inputField('forgot', 'email', "Your account's email address", { type: 'email', autocomplete: 'email', required: true, maxlength: '254' }) };
  const alert = h('p', { role: 'alert', class: 'error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Email me a link');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'forgot-heading' }, fields.email.element, alert, submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      clearFormErrors(fields, alert);
      const email = fields.email.control.value.trim();
      if (email === '') {
        fields.email.setError('Enter the email address of your account.');
        fields.email.control.focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Sending…';
      try {
        const answer = await paymesh.post('/users/password-reset', { body: { email } });
        section.replaceChildren(h('h1', { id: 'forgot-heading', tabindex: '-1' }, 'Check your email'), h('p', { role: 'status' }, answer.message), h('p', {}, h('a', { href: '/' }, 'Back to Paymesh')));
        section.querySelector('h1')?.focus();
      } catch (error) {
        showFormError(error, fields, alert);
      } finally {
        submit.disabled = false;
        submit.textContent = 'Email me a link';
      }
    })();
  });
  section.append(h('h1', { id: 'forgot-heading' }, 'Forgot your password?'), h('p', {}, 'Enter the address of your account: we email you a link to choose a new password. It works once, for 15 minutes.'), form);
  return section;
}
