// Creating an account (POST /users, public): the password rules ticked as the person types, the
// API's refusals on the field they name, then "check your email" (the confirmation link is mailed;
// signing in works at once).
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { clearFormErrors, inputField, showFormError, type FormField } from './form-field.ts';
import type { Paymesh } from '@paymesh/sdk';
import type { Session } from './session.ts';
import { meetsPasswordRules } from './password-rules.ts';
import { passwordRulesList } from './password-rules-list.ts';

/** `paymesh` sends no token (registration is public); `session` signs the person in afterwards. */
export function signUpPage(paymesh: Paymesh, session: Session): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'sign-up-heading', class: 'narrow' });
  const usernameField = inputField('sign-up', 'username', 'Username', { type: 'text', autocomplete: 'username', required: true, minlength: '3', maxlength: '64', autocapitalize: 'none', spellcheck: 'false' }, '3 to 64 letters, digits, dots, dashes or underscores.');
  const emailField = inputField('sign-up', 'email', 'Email address', { type: 'email', autocomplete: 'email', required: true, maxlength: '254' }, 'We send a link to confirm it.');
  const passwordField = inputField('sign-up', 'password', 'Password', { type: 'password', autocomplete: 'new-password', required: true, maxlength: '1024' },
    (input) => passwordRulesList(input, () => ({ username: usernameField.control.value, email: emailField.control.value })));
  const fields = { username: usernameField, email: emailField, password: passwordField };
  const alert = h('p', { role: 'alert', class: 'error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create account');
  const showError = (error: unknown) => void (alert.textContent = errorSentence(error));
  const form = h('form', { novalidate: true, 'aria-labelledby': 'sign-up-heading' }, fields.username.element, fields.email.element, fields.password.element, alert, submit);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      clearFormErrors(fields, alert);
      const username = fields.username.control.value.trim();
      const email = fields.email.control.value.trim();
      const password = fields.password.control.value;
      // What the browser can tell at once is said at once; the rest is the API's to refuse.
      if (username === '') return refuse(fields.username, 'Choose a username.');
      if (email === '') return refuse(fields.email, 'Enter your email address.');
      if (!meetsPasswordRules(password, { username, email })) return refuse(fields.password, 'The password does not meet the rules listed above.');
      submit.disabled = true;
      submit.textContent = 'Creating your account…';
      try {
        const answer = await paymesh.post('/users', { body: { username, email, password } });
        section.replaceChildren(
          h('h1', { id: 'sign-up-heading', tabindex: '-1' }, 'Check your email'),
          h('p', { role: 'status' }, answer.message),
          h('p', {}, `We sent a link to ${email}.`),
          alert,
          h('button', { type: 'button', class: 'primary', onclick: () => void session.signIn('/app/settings/profile').catch(showError) }, 'Sign in to Paymesh'));
        section.querySelector('h1')?.focus();
      } catch (error) {
        showFormError(error, fields, alert);
      } finally {
        submit.disabled = false;
        submit.textContent = 'Create account';
      }
    })();
  });

  section.append(
    h('h1', { id: 'sign-up-heading' }, 'Create your Paymesh account'),
    form,
    h('p', {}, 'Already have an account? ', h('button', { type: 'button', class: 'link', onclick: () => void session.signIn('/app/settings/profile').catch(showError) }, 'Sign in')),
  );
  return section;
}

function refuse(field: FormField, message: string): void {
  field.setError(message);
  field.control.focus();
}
