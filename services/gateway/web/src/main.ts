// The dashboard's entry point (ADR 27): reads the page's settings, completes a sign-in coming back
// from auth, and renders the page the address names. The app's pages live under /app (/ shows the
// first one), so no page URL can shadow an API path: /payments is the API, /app/payments the page.
import { createPaymesh, type Paymesh } from '@paymesh/sdk';
import { readAppSettings } from './app-settings.ts';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { liveInboxOf } from './live-inbox.ts';
import { homePath, pageAt, pages } from './pages.ts';
import { InteractiveSignInNeeded, NotSignedIn, Session } from './session.ts';

const root = document.getElementById('app');
if (root === null) throw new Error('the page has no #app element');
const settings = readAppSettings(root);
const session = new Session(settings);
const paymesh: Paymesh = createPaymesh({ baseUrl: settings.apiUrl, token: session.tokenProvider() });
/** For the public pages (sign up, a forgotten password): sends no token. */
const anonymous: Paymesh = createPaymesh({ baseUrl: settings.apiUrl });

const redirectPath = new URL(settings.redirectUri).pathname;
const signedOutPath = new URL(settings.signedOutUri).pathname;

const header = h('header', { class: 'top' });
const main = h('main', { id: 'main', tabindex: '-1' });
root.replaceChildren(h('a', { href: '#main', class: 'skip' }, 'Skip to content'), header, main);

function renderHeader(): void {
  const brand = h('a', { href: '/', class: 'brand' }, 'Paymesh');
  const user = session.user;
  if (user === undefined) {
    liveInboxOf(paymesh).stop();
    header.replaceChildren(brand, h('div', { class: 'account' }, h('button', { type: 'button', onclick: () => void signIn() }, 'Sign in')));
    return;
  }
  const current = pageAt(location.pathname)?.page ?? (isHome(location.pathname) ? pages[0] : undefined);
  const links = pages.filter((page) => page.nav !== undefined && (page.admin !== true || user.role === 'admin'))
    .map((page) => h('a', { href: page.path, 'aria-current': page === current ? 'page' : false }, page.nav!, page.navBadge?.(paymesh)));
  header.replaceChildren(
    brand,
    h('nav', { 'aria-label': 'Main' }, ...links),
    h('div', { class: 'account' },
      h('span', { class: 'signed-in-as' }, 'Signed in as ', h('strong', { 'data-testid': 'username' }, user.username)),
      h('button', { type: 'button', onclick: () => { liveInboxOf(paymesh).stop(); void session.signOut().catch(showError); } }, 'Sign out')),
  );
}

function isHome(pathname: string): boolean {
  const path = trimmed(pathname);
  return path === '/' || path === '/app';
}

function navigate(path: string): void {
  history.pushState(null, '', path);
  render();
  main.focus();
}

// Every link into the app (the header's, the pages') changes page without a reload; a link opened
// in a new tab or with a modifier key is left to the browser.
root.addEventListener('click', (event) => {
  const link = (event.target as Element).closest('a');
  if (link === null || link.origin !== location.origin || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || link.target !== '') return;
  if (link.pathname !== '/' && !link.pathname.startsWith('/app')) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
});

/** A path without its trailing slashes (`/` stays `/`). */
function trimmed(pathname: string): string {
  return pathname.replace(/\/+$/, '') || '/';
}

/** Where a sign-in started here comes back to: this page, unless it is the signed-out or redirect page. */
function returnHere(): string {
  const here = trimmed(location.pathname);
  return here === signedOutPath || here === redirectPath ? homePath : here + location.search;
}

/** A page of this app to go back to, whatever came back from the round trip (anything else: home). */
function appPath(path: string): string {
  return /^\/(?!\/)/.test(path) && (path === '/' || path.startsWith('/app')) ? path : homePath;
}

function signIn(): Promise<void> {
  return session.signIn(returnHere()).catch(showError);
}

// A refresh token that stops working (the session ended elsewhere, or its chain expired) is
// followed by a silent sign-in that comes back to the page the person is on.
session.renewSilentlyReturningTo(returnHere);

// Signed out in another tab of this browser: nothing of the account stays on screen here.
session.onSignedOutElsewhere(() => {
  liveInboxOf(paymesh).stop();
  notSignedInReason = 'You signed out in another tab or window.';
  render();
});
// The server ended the live stream for a revoked token (a sign-out in another browser, say): the
// session is asked at once, which either renews quietly (the header restarts the stream) or ends
// in the signed-out page.
liveInboxOf(paymesh).onRevoked = () => void session.recheck().then(renderHeader, showError);

function showError(error: unknown): void {
  main.replaceChildren(h('h1', {}, 'Something went wrong'), h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
}

function render(): void {
  renderHeader();
  const path = trimmed(location.pathname);
  const open = pageAt(path);
  if (open?.page.public === true) {
    document.title = `${open.page.title} · Paymesh`;
    main.replaceChildren(open.page.render({ paymesh: anonymous, session, user: session.user, query: new URLSearchParams(location.search), params: open.params, navigate }));
    return;
  }
  if (session.user === undefined) {
    document.title = 'Paymesh';
    const signedOut = path === signedOutPath;
    main.replaceChildren(
      h('h1', {}, signedOut ? 'You have signed out' : 'Welcome to Paymesh'),
      ...(notSignedInReason === undefined ? [] : [h('p', { role: 'status' }, notSignedInReason)]),
      h('p', {}, signedOut ? 'Your session has ended on this device.' : 'Sign in to see your payments.'),
      h('button', { type: 'button', class: 'primary', onclick: () => void signIn() }, 'Sign in to Paymesh'),
      h('p', {}, 'New to Paymesh? ', h('a', { href: '/app/sign-up' }, 'Create an account'), ' · ', h('a', { href: '/app/forgot-password' }, 'Forgot your password?')),
    );
    return;
  }
  const found = isHome(path) ? { page: pages[0]!, params: {} } : pageAt(path);
  if (found === undefined || (found.page.admin === true && session.user.role !== 'admin')) {
    document.title = 'Page not found · Paymesh';
    main.replaceChildren(h('h1', {}, 'Page not found'), h('p', {}, 'There is no such page. '), h('a', { href: homePath }, 'Go to your payments'));
    return;
  }
  document.title = `${found.page.title} · Paymesh`;
  main.replaceChildren(found.page.render({ paymesh, session, user: session.user, query: new URLSearchParams(location.search), params: found.params, navigate }));
}

window.addEventListener('popstate', render);

/** Why the person is not signed in, when a silent sign-in after a session found it ended. */
let notSignedInReason: string | undefined;

async function start(): Promise<void> {
  if (trimmed(location.pathname) === redirectPath) {
    try {
      const returnTo = await session.completeSignIn(new URL(location.href));
      // The code leaves the address bar (and the history) at once.
      history.replaceState(null, '', appPath(returnTo));
    } catch (error) {
      if (error instanceof NotSignedIn) {
        // The silent attempt found no session at auth: the page asked for, signed out.
        history.replaceState(null, '', appPath(error.returnTo));
        notSignedInReason = error.reason;
        render();
        return;
      }
      if (error instanceof InteractiveSignInNeeded) {
        await session.signIn(appPath(error.returnTo)).catch(showError);
        return;
      }
      history.replaceState(null, '', '/');
      renderHeader();
      showError(error);
      return;
    }
  } else if (session.user === undefined && pageAt(trimmed(location.pathname))?.page.public !== true && trimmed(location.pathname) !== signedOutPath) {
    // Loaded without tokens (a reload, a new tab): while the session at auth lives, auth answers
    // this with a code at once and the person never sees a sign-in page (ADR 27).
    await session.signIn(returnHere(), { silent: true }).catch(showError);
    return;
  }
  // The end of a sign-out (auth ended the session and sent the browser here): the other tabs hear it.
  if (trimmed(location.pathname) === signedOutPath) session.announceSignedOut();
  render();
}

void start();
