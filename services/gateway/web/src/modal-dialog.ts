// A modal dialog (the platform's <dialog> with showModal: focus moves in and is trapped, Escape
// closes it, the page behind is inert), labelled by its heading, removed from the page once closed.
import { h } from './element.ts';

let dialogCount = 0;

export interface ModalDialog {
  readonly dialog: HTMLDialogElement;
  /** Where the dialog's content goes, below its heading. */
  readonly body: HTMLElement;
  close(): void;
}

/** Opens a dialog titled `title`; `onClose` runs once it is closed, however it was (Escape, a button). */
export function openModalDialog(title: string, onClose: () => void = () => {}): ModalDialog {
  const headingId = `dialog-heading-${++dialogCount}`;
  const body = h('div', { class: 'dialog-body' });
  const dialog = h('dialog', { 'aria-labelledby': headingId, class: 'modal' }, h('h2', { id: headingId }, title), body);
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  dialog.addEventListener('close', () => {
    dialog.remove();
    onClose();
    // Back where the person was, if that control is still on the page.
    if (opener?.isConnected === true) opener.focus();
  });
  (document.getElementById('app') ?? document.body).append(dialog);
  dialog.showModal();
  return { dialog, body, close: () => dialog.close() };
}

/** Asks a yes-or-no question; resolves true only when the person confirms. */
export function confirmDialog(title: string, question: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    let confirmed = false;
    const modal = openModalDialog(title, () => resolve(confirmed));
    const cancel = h('button', { type: 'button', onclick: () => modal.close() }, 'Cancel');
    modal.body.append(
      h('p', {}, question),
      h('div', { class: 'dialog-actions' },
        cancel,
        h('button', { type: 'button', class: 'danger', onclick: () => { confirmed = true; modal.close(); } }, confirmLabel)),
    );
    // The safe choice has the focus: Enter on an unread dialog does not delete.
    cancel.focus();
  });
}
