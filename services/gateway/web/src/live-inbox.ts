// The signed-in person's inbox, live: ONE stream per signed-in session (the SDK's streamInbox:
// SSE over fetch, reconnecting with Last-Event-ID), shared by the header's unread badge and the
// inbox page. the header's Inbox link starts it (pages.ts's navBadge) and main.ts stops it on sign-out; pages come and
// go without opening streams of their own.
import type { Notification, Paymesh } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';

export type { Notification };

interface Watcher {
  /** The watcher lives while this element is in the document (a page that was left stops hearing). */
  readonly element: Element;
  readonly onNotification: (notification: Notification) => void;
}

export class LiveInbox {
  readonly #paymesh: Paymesh;
  #stop: AbortController | undefined;
  /** Resolves once the stream's starting point is known: a list read after it misses nothing the stream will not bring. */
  #ready: Promise<void> = Promise.resolve();
  /** Counts the stream's unread_count events, so an older GET's answer never overwrites a newer count. */
  #countEvents = 0;
  readonly #watchers = new Set<Watcher>();
  readonly #count = h('span', { 'data-testid': 'unread-count' });
  /** The header's badge: one element, moved into each rendering of the header. */
  readonly badge = h('span', { class: 'unread-badge', hidden: true }, this.#count, h('span', { class: 'visually-hidden' }, ' unread'));
  /** Called when the server ends the stream because the token was revoked (signed out elsewhere, say). */
  onRevoked: (() => void) | undefined;

  constructor(paymesh: Paymesh) {
    this.#paymesh = paymesh;
  }

  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Opens the stream unless it is open (called on every header rendering while signed in). */
  start(): void {
    if (this.#stop !== undefined) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.badge.removeAttribute('title');
    this.#ready = this.#run(stop);
  }

  /** The header's badge, the stream started: while someone is signed in the header shows it, so the stream runs. */
  startedBadge(): HTMLElement {
    this.start();
    return this.badge;
  }

  /** Closes the stream (sign-out) and forgets the count. */
  stop(): void {
    this.#stop?.abort();
    this.#stop = undefined;
    this.#show(undefined);
  }

  /** Calls `onNotification` for each new notification while `element` is in the document. */
  watch(element: Element, onNotification: (notification: Notification) => void): void {
    this.#prune();
    this.#watchers.add({ element, onNotification });
  }

  /** Asks for the count now (after an action of this tab, in case the stream is down). */
  async refreshCount(): Promise<void> {
    const before = this.#countEvents;
    const { unread } = await this.#paymesh.get('/notifications/unread_count');
    if (this.#countEvents === before && this.#stop !== undefined) this.#show(unread);
  }

  #prune(): void {
    for (const watcher of this.#watchers) if (!watcher.element.isConnected) this.#watchers.delete(watcher);
  }

  #show(unread: number | undefined): void {
    this.#count.textContent = unread === undefined ? '' : String(unread);
    this.badge.hidden = unread === undefined || unread === 0;
  }

  /** Resolves when the starting point is known; the stream then runs until stopped. */
  async #run(stop: AbortController): Promise<void> {
    let lastEventId: string;
    try {
      // The newest notification now is where the stream starts: everything after it comes live.
      const newest = await this.#paymesh.get('/notifications', { params: { query: { limit: '1' } }, signal: stop.signal });
      lastEventId = String(newest[0]?.id ?? 0);
      await this.refreshCount();
    } catch (error) {
      this.#failed(stop, error);
      return;
    }
    void this.#follow(stop, lastEventId);
  }

  async #follow(stop: AbortController, lastEventId: string): Promise<void> {
    try {
      for await (const event of this.#paymesh.streamInbox({ signal: stop.signal, lastEventId })) {
        if (event.type === 'unread_count') {
          this.#countEvents++;
          this.#show(event.unread);
        } else if (event.type === 'notification') {
          this.#prune();
          for (const watcher of this.#watchers) watcher.onNotification(event.notification);
        }
      }
      // Ended by the server for a revoked token (signed out elsewhere), or stopped here.
      if (this.#stop === stop) this.#stop = undefined;
      if (!stop.signal.aborted) this.onRevoked?.();
    } catch (error) {
      this.#failed(stop, error);
    }
  }

  /** The badge says live updates stopped (its title), and the next header rendering tries again. */
  #failed(stop: AbortController, error: unknown): void {
    if (stop.signal.aborted) return;
    if (this.#stop === stop) this.#stop = undefined;
    this.badge.title = `Live updates stopped: ${errorSentence(error)}`;
  }
}

const inboxes = new WeakMap<Paymesh, LiveInbox>();

/** The one LiveInbox of this client (this tab's signed-in session). */
export function liveInboxOf(paymesh: Paymesh): LiveInbox {
  let inbox = inboxes.get(paymesh);
  if (inbox === undefined) inboxes.set(paymesh, (inbox = new LiveInbox(paymesh)));
  return inbox;
}
