// An error shown on the field it concerns: the message below the control, the control marked
// invalid and described by it (screen readers read it with the field).
import { h } from './element.ts';

/** Shows `message` under `control` (or clears it when undefined). */
export function setFieldError(control: HTMLInputElement | HTMLSelectElement, message: string | undefined): void {
  const id = `${control.id}-error`;
  document.getElementById(id)?.remove();
  if (message === undefined) {
    control.removeAttribute('aria-invalid');
    control.removeAttribute('aria-describedby');
    return;
  }
  control.setAttribute('aria-invalid', 'true');
  control.setAttribute('aria-describedby', id);
  control.after(h('p', { id, class: 'error field-error' }, message));
}
