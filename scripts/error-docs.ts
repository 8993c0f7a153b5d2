// docs/errors.md, the catalogue of every error code the platform answers with, made from the
// services' error catalogues (errors.ts in the kit and in each service), so that the list the API
// document points to is the code's. `npm run docs:errors` writes it; test/docs.test.ts fails when it
// is stale. OAuth endpoints answer RFC 6749's own `{"error": "invalid_grant", …}` instead (docs/api.md).
import { AppError, platformErrors } from '@paymesh/platform/errors';
import { authErrors } from '../services/auth/src/errors.ts';
import { gatewayErrors } from '../services/gateway/src/errors.ts';
import { notificationsErrors } from '../services/notifications/src/errors.ts';
import { paymentsErrors } from '../services/payments/src/errors.ts';
import { usersErrors } from '../services/users/src/errors.ts';

const catalogues: [string, Record<string, (...args: never[]) => AppError>][] = [
  ['every service', platformErrors as never],
  ['auth', authErrors as never],
  ['users', usersErrors as never],
  ['payments', paymentsErrors as never],
  ['notifications', notificationsErrors as never],
  ['gateway', gatewayErrors as never],
];

interface Entry { status: number; type: string; code: string; where: Set<string>; messages: Set<string> }

/**
 * Card errors take their code from the card (the processor's decline, or the detail at fault): the
 * codes are listed here, as Stripe names them and as the built-in test processor and the card
 * checks (processor/card-details.ts) give them.
 */
const cardCodes: Record<string, string> = {
  card_declined: 'The card was declined (`decline_code` says why: generic_decline, insufficient_funds …).',
  expired_card: 'The card has expired.',
  incorrect_cvc: 'The card\'s security code is incorrect.',
  processing_error: 'An error occurred while processing the card; try again.',
  incorrect_number: 'The card number is incorrect (checked before anything is attempted).',
  invalid_expiry_month: 'The expiration month is invalid.',
  invalid_expiry_year: 'The expiration year is invalid.',
  invalid_cvc: 'The security code is invalid.',
};

/** Each factory called with stand-ins for its arguments ("…"): the message shows where they go. */
function sample(name: string, factory: (...args: never[]) => AppError): AppError {
  const stand = '…';
  const count = Math.max(factory.length, 2);
  // A text, a list of texts, or a declined card's details: whichever the factory takes.
  for (const value of [stand, [stand], { code: stand, declineCode: stand, message: stand }]) {
    try {
      const error = factory(...(Array.from({ length: count }, () => value) as never[]));
      if (error instanceof AppError && typeof error.code === 'string') return error;
    } catch {
      // the next kind of stand-in
    }
  }
  throw new Error(`scripts/error-docs.ts: cannot sample ${name}; teach sample() its arguments`);
}

export function errorDocs(): string {
  const entries = new Map<string, Entry>();
  for (const [where, catalogue] of catalogues) {
    for (const [name, factory] of Object.entries(catalogue)) {
      const error = sample(name, factory);
      // A card error's code is the card's: listed below.
      if (error.type === 'card_error' && error.code === '…') continue;
      const key = `${error.code} ${error.statusCode}`;
      const entry = entries.get(key) ?? { status: error.statusCode, type: error.type, code: error.code, where: new Set(), messages: new Set() };
      entry.where.add(where);
      entry.messages.add(error.message.replaceAll('|', '\\|').replaceAll('\n', ' '));
      entries.set(key, entry);
    }
  }
  for (const [code, message] of Object.entries(cardCodes)) {
    const key = `${code} 402`;
    const entry = entries.get(key) ?? { status: 402, type: 'card_error', code, where: new Set<string>(['payments']), messages: new Set<string>() };
    if (entry.messages.size === 0) entry.messages.add(message);
    entries.set(key, entry);
  }
  // The kit's catch-all for what the web framework refuses before a route (http-server.ts, toAppError).
  entries.set('request_invalid 4xx', { status: 0, type: 'invalid_request_error', code: 'request_invalid', where: new Set(['every service']), messages: new Set(['What the web framework refused before any route, with its status (414 for a path parameter over 200 characters, say); the message is cut to 200 characters.']) });
  const rows = [...entries.values()].sort((a, b) => a.code.localeCompare(b.code) || a.status - b.status)
    .map((e) => `| \`${e.code}\` | ${e.status === 0 ? '4xx' : e.status} | ${e.type} | ${[...e.where].join(', ')} | ${[...e.messages].join(' / ')} |`);
  return [
    '# Errors',
    '',
    'Every error answer of the API has one shape, Stripe\'s: `{"error": {"type", "code", "message", "param"?, "decline_code"?}}` (plus, on the compatibility contract\'s routes, a top-level `message`). `code` is stable and meant for programs; `message` is for people and may change; `param` names the field at fault. Each route\'s own codes are in its OpenAPI answers (docs/api/openapi.json); this is every code there is, made from the error catalogues by `npm run docs:errors` (a test fails when it is stale). Where the message depends on the request, `…` stands for that part.',
    '',
    'The OAuth and OpenID Connect endpoints of auth (`/auth/token`, `/auth/authorize`, introspection, revocation) answer with the standard OAuth error object instead (`{"error": "invalid_grant", "error_description": …}`, RFC 6749 §5.2).',
    '',
    '| code | HTTP status | type | from | message |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
