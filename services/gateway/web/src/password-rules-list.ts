// The password rules under a new-password field, each ticked as the person types. The list is the
// field's description (read with it); its items say "done" or "not yet" in words, not colour only.
import { h } from './element.ts';
import { passwordRules } from './password-rules.ts';

export function passwordRulesList(input: HTMLInputElement, account: () => { username?: string; email?: string }): HTMLElement {
  const list = h('ul', { class: 'password-rules' });
  const update = () => {
    list.replaceChildren(...passwordRules(input.value, account()).map((rule) =>
      h('li', { class: rule.met ? 'met' : 'unmet' }, h('span', { class: 'rule-mark', 'aria-hidden': 'true' }, rule.met ? '✓' : '•'), `${rule.text} `, h('span', { class: 'rule-state' }, rule.met ? '(done)' : '(not yet)'))));
  };
  input.addEventListener('input', update);
  update();
  return h('div', {}, list, h('p', { class: 'field-note' }, 'Common passwords and easy patterns (repeats, sequences, keyboard rows, dates) are refused too: a few uncommon words make a strong one.'));
}
