// A labelled input whose API refusal lands on it: showFormError() puts an error on the field its
// `param` names (sign-up, profile, forgot password). Pay's fields use form-field.ts (select too, a hint it updates).
import { PaymeshError } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';

export interface FormField {
  readonly element: HTMLElement;
  readonly input: HTMLInputElement;
  /** Shows `message` under the field (or clears it). */
  showError(message: string | undefined): void;
}

/** `name` is the API's field name (the error's `param`); `hint` is shown under the label, and read with the field. */
export function apiFormField(idPrefix: string, name: string, label: string, attributes: Record<string, string | boolean>, hint?: Node | string | ((input: HTMLInputElement) => Node)): FormField {
  const id = `${idPrefix}-${name}`;
  const described = [hint === undefined ? undefined : `${id}-hint`, `${id}-error`].filter((value) => value !== undefined).join(' ');
  const input = h('input', { id, name, 'aria-describedby': described, ...attributes });
  const error = h('p', { id: `${id}-error`, class: 'field-error' });
  const element = h('div', { class: 'field' },
    h('label', { for: id }, label),
    hint === undefined ? null : h('div', { id: `${id}-hint`, class: 'field-hint' }, typeof hint === 'function' ? hint(input) : hint),
    input,
    error);
  return {
    element,
    input,
    showError(message) {
      error.textContent = message ?? '';
      if (message === undefined) input.removeAttribute('aria-invalid');
      else input.setAttribute('aria-invalid', 'true');
    },
  };
}

/**
 * Shows an API refusal where it belongs: on the field its `param` names (focused, so a keyboard or
 * screen-reader user lands on it), otherwise in the form's alert.
 */
export function showFormError(error: unknown, fields: Readonly<Record<string, FormField>>, alert: HTMLElement): void {
  const sentence = errorSentence(error);
  const field = error instanceof PaymeshError && error.param !== undefined ? fields[error.param] : undefined;
  if (field === undefined) {
    alert.textContent = sentence;
    return;
  }
  alert.textContent = '';
  field.showError(sentence);
  field.input.focus();
}

/** Clears every field's error and the form's alert before a new attempt. */
export function clearFormErrors(fields: Readonly<Record<string, FormField>>, alert: HTMLElement): void {
  for (const field of Object.values(fields)) field.showError(undefined);
  alert.textContent = '';
}
