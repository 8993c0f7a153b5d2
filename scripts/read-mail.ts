// Shows the emails the platform wrote to EMAIL_OUTBOX_DIR (var/mail by default) when no SMTP_URL
// is set, newest last: who to, the subject and the plain-text part, decoded. `--links` prints only
// the links, one per line (what the README's walk-through follows). Development only.
//   npm run -s mail            the latest 5 emails
//   npm run -s mail -- 20      the latest 20
//   npm run -s mail -- --links
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const dir = resolve(process.env.EMAIL_OUTBOX_DIR ?? resolve(import.meta.dirname, '../var/mail'));
const args = process.argv.slice(2);
const linksOnly = args.includes('--links');
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? (linksOnly ? 50 : 5));

/** RFC 2045 quoted-printable: soft line breaks and =XX bytes, decoded as UTF-8. */
function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function textPart(raw: string): { to: string; subject: string; text: string } {
  const [head = '', ...rest] = raw.split(/\r?\n\r?\n/);
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1]?.trim() ?? '';
  const body = rest.join('\n\n');
  const part = /Content-Type: text\/plain[^\n]*\r?\nContent-Transfer-Encoding: ([\w-]+)\r?\n\r?\n([\s\S]*?)\r?\n----/i.exec(body);
  const text = part === null ? body : part[1]!.toLowerCase() === 'quoted-printable' ? decodeQuotedPrintable(part[2]!) : part[2]!;
  return { to: header('To'), subject: header('Subject'), text: text.replace(/\r\n/g, '\n').trim() };
}

let files: string[];
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
} catch {
  console.error(`no emails in ${dir} (is SMTP_URL set? then they were sent, not written)`);
  process.exit(1);
}
const latest = files.map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs })).sort((a, b) => a.t - b.t).slice(-count);
for (const { f } of latest) {
  const mail = textPart(readFileSync(join(dir, f), 'utf8'));
  if (linksOnly) {
    for (const link of mail.text.match(/https?:\/\/\S+/g) ?? []) console.log(link);
  } else {
    console.log(`── ${f}\nTo: ${mail.to}\nSubject: ${mail.subject}\n\n${mail.text}\n`);
  }
}
