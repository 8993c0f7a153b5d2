// A labelled form control with its hint and its error: the error is shown under the control, named
// by aria-describedby and flagged with aria-invalid, so a screen reader hears it with the field.
import { h } from './element.ts';

export interface FormField {
  /** The wrapper to place in the form. */
  readonly element: HTMLElement;
  readonly control: HTMLInputElement | HTMLSelectElement;
  readonly hint: HTMLElement;
  /** Shows `sentence` as the field's error, or clears it (undefined). */
  setError(sentence: string | undefined): void;
}

export function formField(id: string, label: string, control: HTMLInputElement | HTMLSelectElement, hintText = ''): FormField {
  control.id = id;
  const hint = h('p', { id: `${id}-hint`, class: 'hint' }, hintText);
  const error = h('p', { id: `${id}-error`, class: 'error field-error' });
  control.setAttribute('aria-describedby', `${id}-hint ${id}-error`);
  const element = h('div', { class: 'field' }, h('label', { for: id }, label), control, hint, error);
  return {
    element,
    control,
    hint,
    setError(sentence) {
      error.textContent = sentence ?? '';
      if (sentence === undefined) control.removeAttribute('aria-invalid');
      else control.setAttribute('aria-invalid', 'true');
    },
  };
}
