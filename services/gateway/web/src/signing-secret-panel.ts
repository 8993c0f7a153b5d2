// A webhook endpoint's signing secret, shown once (after creation or rotation): a read-only input
// to select and copy, a Copy button, and the sentence that it will not be shown again.
import { h } from './element.ts';

let panelCount = 0;

/** The panel; it takes the focus (the secret selected) once placed on the page: call `focus()`. */
export function signingSecretPanel(url: string, secret: string, onDone: () => void): { element: HTMLElement; focus(): void } {
  const id = `signing-secret-${++panelCount}`;
  const input = h('input', { id, type: 'text', readonly: true, value: secret, class: 'secret-value', spellcheck: 'false', autocomplete: 'off', 'aria-describedby': `${id}-note` });
  const copied = h('span', { role: 'status', 'aria-live': 'polite' });
  const copy = h('button', { type: 'button', onclick: () => {
    input.select();
    navigator.clipboard.writeText(secret).then(() => { copied.textContent = 'Copied.'; }, () => { copied.textContent = 'Select the secret and copy it with your keyboard.'; });
  } }, 'Copy');
  const element = h('section', { class: 'card secret-panel', 'aria-labelledby': `${id}-heading` },
    h('h2', { id: `${id}-heading` }, 'Your new signing secret'),
    h('p', { id: `${id}-note` }, 'The signing secret of ', h('code', { class: 'wrap' }, url), ' is below. Copy it now and keep it safe: it will not be shown again.'),
    h('div', { class: 'field' }, h('label', { for: id }, 'Signing secret'), input),
    h('div', { class: 'actions' }, copy, h('button', { type: 'button', onclick: onDone }, 'I have copied it'), copied));
  return { element, focus: () => { input.focus(); input.select(); } };
}
