// The mailbox an address delivers to, for counting what is sent to one person: `Ana+x@Example.com`,
// `ana+y@example.com` and `ana@example.com` reach the same inbox at most providers (plus
// addressing), and Gmail ignores dots in the local part. Only for limits: accounts keep the address
// as given, and uniqueness stays by login key (two accounts may share a mailbox).
import { loginKey } from '@paymesh/platform/login-key';

/** Gmail's documented rule: dots in the local part do not matter; googlemail.com is gmail.com. */
const gmailDomains = new Set(['gmail.com', 'googlemail.com']);

export function mailboxKey(email: string): string {
  const at = email.lastIndexOf('@');
  const domain = email.slice(at + 1).toLowerCase();
  // Everything from the first `+` is a tag (RFC 5233 subaddressing as Gmail, Outlook and Fastmail do it).
  let local = loginKey(email.slice(0, at)).split('+')[0]!;
  if (gmailDomains.has(domain)) return `${local.replaceAll('.', '')}@gmail.com`;
  return `${local}@${domain}`;
}
