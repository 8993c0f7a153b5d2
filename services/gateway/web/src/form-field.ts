// A labelled form control with its hint and its error: the error is shown under the control, named
// by aria-describedby and flagged with aria-invalid, so a screen reader hears it with the field.
// An API refusal lands on the field its `param` names (showFormError).
import { PaymeshError } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';

export interface FormField {
  /** The wrapper to place in the form. */
  readonly element: HTMLElement;
  readonly control: HTMLInputElement | HTMLSelectElement;
  readonly hint: HTMLElement;
  /** Shows `sentence` as the field's error, or clears it (undefined). */
  setError(sentence: string | undefined): void;
}

export function formField(id: string, label: string, control: HTMLInputElement | HTMLSelectElement, hint: string | Node = ''): FormField {
  control.id = id;
  const hintElement = h('div', { id: `${id}-hint`, class: 'hint' }, hint);
  const error = h('p', { id: `${id}-error`, class: 'error field-error' });
  control.setAttribute('aria-describedby', `${id}-hint ${id}-error`);
  const element = h('div', { class: 'field' }, h('label', { for: id }, label), control, hintElement, error);
  return {
    element,
    control,
    hint: hintElement,
    setError(sentence) {
      error.textContent = sentence ?? '';
      if (sentence === undefined) control.removeAttribute('aria-invalid');
      else control.setAttribute('aria-invalid', 'true');
    },
  };
}

/**
 * An input named for the API's field (`name`, the error's `param`), with `attributes`; `hint` may be
 * built from the input (the password rules, which follow what is typed).
 */
export function inputField(idPrefix: string, name: string, label: string, attributes: Record<string, string | boolean>, hint?: string | Node | ((input: HTMLInputElement) => Node)): FormField {
  const input = h('input', { name, ...attributes });
  return formField(`${idPrefix}-${name}`, label, input, typeof hint === 'function' ? hint(input) : hint);
}

/** What an error is shown on: a field, or a group of controls (a fieldset of checkboxes). */
export type FieldErrors = Pick<FormField, 'setError'> & { readonly control: HTMLElement };

/**
 * Shows an API refusal where it belongs: on the field its `param` names (focused, so a keyboard or
 * screen-reader user lands on it), otherwise in the form's alert.
 */
export function showFormError(error: unknown, fields: Readonly<Record<string, FieldErrors>>, alert: HTMLElement): void {
  const sentence = errorSentence(error);
  const field = error instanceof PaymeshError && error.param !== undefined ? fields[error.param] : undefined;
  if (field === undefined) {
    alert.textContent = sentence;
    return;
  }
  alert.textContent = '';
  field.setError(sentence);
  field.control.focus();
}

/** Clears every field's error and the form's alert before a new attempt. */
export function clearFormErrors(fields: Readonly<Record<string, FieldErrors>>, alert: HTMLElement): void {
  for (const field of Object.values(fields)) field.setError(undefined);
  alert.textContent = '';
}
