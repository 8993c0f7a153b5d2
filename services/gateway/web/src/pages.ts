// Every page of the dashboard, in one table: its address (under /app, so no page can shadow an
// API path), its title, its place in the main navigation, and who sees it. main.ts routes through
// it; a new page is one entry here and a file of its own that builds its element.
import type { Paymesh } from '@paymesh/sdk';
import type { Session, SignedIn } from './session.ts';
import { paymentsPage } from './payments-page.ts';
import { payPage } from './pay-page.ts';
import { paymentDetailPage } from './payment-detail-page.ts';
import { inboxPage } from './inbox-page.ts';
import { liveInboxOf } from './live-inbox.ts';
import { notificationPreferencesPage } from './notification-preferences-page.ts';
import { adminUsersPage } from './admin-users-page.ts';
import { adminUserPage } from './admin-user-page.ts';
import { ledgerStatusPage } from './ledger-status-page.ts';
import { forgotPasswordPage } from './forgot-password-page.ts';
import { profilePage } from './profile-page.ts';
import { signUpPage } from './sign-up-page.ts';
import { walletPage } from './wallet-page.ts';
import { cardsPage } from './cards-page.ts';
import { webhooksPage } from './webhooks-page.ts';
import { webhookDeliveriesPage } from './webhook-deliveries-page.ts';
import { devicesPage } from './devices-page.ts';

/** What a page is given to build itself. */
export interface PageContext {
  readonly paymesh: Paymesh;
  readonly session: Session;
  readonly user: SignedIn;
  /** The address's query (filters, cursors) and the pattern's groups (`:id`). */
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  /** Goes to another page of the app without reloading (also any `<a href="/app/…">` click). */
  readonly navigate: (path: string) => void;
}

interface PageEntry {
  /** `/app/payments`, or with named parts: `/app/payments/:id`. */
  readonly path: string;
  /** The document's title and the heading a screen reader hears first. */
  readonly title: string;
  /** Its label in the main navigation; pages reached from another page have none. */
  readonly nav?: string;
  /** Shown to administrators only (the APIs refuse others anyway). */
  readonly admin?: boolean;
  /** Shown inside its navigation link, kept current by the page's own code (the inbox's unread count). */
  readonly navBadge?: (paymesh: Paymesh) => Node;
  readonly public?: false;
  readonly render: (context: PageContext) => HTMLElement;
}

/** What a page open to signed-out visitors is given: no user when nobody is signed in. */
export type PublicPageContext = Omit<PageContext, 'user'> & { readonly user: SignedIn | undefined };

/** A page open to signed-out visitors too (sign up, a forgotten password): main.ts renders it without a session. */
interface PublicPageEntry extends Omit<PageEntry, 'public' | 'render'> {
  readonly public: true;
  readonly render: (context: PublicPageContext) => HTMLElement;
}

export type Page = PageEntry | PublicPageEntry;

export const pages: readonly Page[] = [
  { path: '/app/payments', title: 'Payments', nav: 'Payments', render: ({ paymesh }) => paymentsPage(paymesh) },
  { path: '/app/pay', title: 'Pay', nav: 'Pay', render: ({ paymesh, user }) => payPage(paymesh, user) },
  { path: '/app/wallet', title: 'Wallet', nav: 'Wallet', render: ({ paymesh }) => walletPage(paymesh) },
  { path: '/app/cards', title: 'Saved cards', nav: 'Cards', render: ({ paymesh }) => cardsPage(paymesh) },
  { path: '/app/payments/:id', title: 'Payment', render: ({ paymesh, params }) => paymentDetailPage(paymesh, params.id!) },
  { path: '/app/inbox', title: 'Inbox', nav: 'Inbox', navBadge: (paymesh) => liveInboxOf(paymesh).startedBadge(), render: ({ paymesh }) => inboxPage(paymesh, liveInboxOf(paymesh)) },
  { path: '/app/settings/notifications', title: 'Notification preferences', render: ({ paymesh }) => notificationPreferencesPage(paymesh) },
  { path: '/app/admin/users', title: 'Users', nav: 'Users', admin: true, render: ({ paymesh, query }) => adminUsersPage(paymesh, query) },
  { path: '/app/admin/users/:id', title: 'User', admin: true, render: ({ paymesh, params }) => adminUserPage(paymesh, params.id!) },
  { path: '/app/admin/ledger', title: 'Ledger status', nav: 'Ledger', admin: true, render: ({ paymesh }) => ledgerStatusPage(paymesh) },
  { path: '/app/sign-up', title: 'Create an account', public: true, render: ({ paymesh, session }) => signUpPage(paymesh, session) },
  { path: '/app/forgot-password', title: 'Forgot your password', public: true, render: ({ paymesh }) => forgotPasswordPage(paymesh) },
  { path: '/app/settings/profile', title: 'Profile', nav: 'Profile', render: ({ paymesh, session }) => profilePage(paymesh, session) },
  { path: '/app/settings/webhooks', title: 'Webhook endpoints', render: ({ paymesh }) => webhooksPage(paymesh) },
  { path: '/app/settings/webhooks/:id', title: 'Webhook deliveries', render: ({ paymesh, params }) => webhookDeliveriesPage(paymesh, params.id!) },
  { path: '/app/settings/devices', title: 'Push devices', render: ({ paymesh }) => devicesPage(paymesh) },
];

/** The first page: where `/` and `/app` lead, and where a sign-in returns by default. */
export const homePath = pages[0]!.path;

/** The page whose path matches `pathname`, with its named parts. */
export function pageAt(pathname: string): { page: Page; params: Record<string, string> } | undefined {
  for (const page of pages) {
    const names: string[] = [];
    const pattern = new RegExp(`^${page.path.replace(/:([a-z_]+)/g, (_m, name: string) => (names.push(name), '([^/]+)'))}$`);
    const match = pattern.exec(pathname);
    if (match !== null) return { page, params: Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)])) };
  }
  return undefined;
}
