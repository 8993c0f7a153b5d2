// Turns a notification's words into the subject, text and HTML of an email. The layout is tables
// and inline styles because many email clients drop <style> blocks and ignore flexbox or grid.

export interface EmailContent {
  readonly subject: string;
  readonly heading: string;
  readonly paragraphs: readonly string[];
  /** A button in HTML, a bare URL line in text. */
  readonly action?: { readonly label: string; readonly url: string };
  /** Small print at the bottom, e.g. why the user got this and how to change preferences. */
  readonly footer?: string;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const defaultBrand = { productName: 'Paymesh' } as const;

const fontFamily = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const accentColor = '#4f46e5';

export function renderEmail(content: EmailContent, brand: { readonly productName: string } = defaultBrand): RenderedEmail {
  const subject = singleLine(content.subject);
  const actionUrl = content.action === undefined ? undefined : httpUrl(content.action.url);
  return {
    subject,
    text: renderText(content, actionUrl),
    html: renderHtml(content, subject, actionUrl, brand.productName),
  };
}

function renderText(content: EmailContent, actionUrl: string | undefined): string {
  const blocks = [content.heading, ...content.paragraphs];
  if (content.action !== undefined && actionUrl !== undefined) blocks.push(`${content.action.label}: ${actionUrl}`);
  // "-- " (with the space) is the signature separator of RFC 3676: clients recognise it and
  // show the small print below it as such.
  if (content.footer !== undefined) blocks.push(`-- \n${content.footer}`);
  return `${blocks.join('\n\n')}\n`;
}

function renderHtml(content: EmailContent, subject: string, actionUrl: string | undefined, productName: string): string {
  const rows: string[] = [
    row(`<div style="font-size:14px;font-weight:bold;letter-spacing:0.02em;color:${accentColor};">${escapeHtml(productName)}</div>`, '28px 32px 0'),
    row(`<h1 style="margin:0;font-family:${fontFamily};font-size:22px;line-height:30px;font-weight:bold;color:#111827;">${escapeHtmlLines(content.heading)}</h1>`, '16px 32px 0'),
  ];
  for (const paragraph of content.paragraphs) {
    rows.push(row(`<p style="margin:0;font-family:${fontFamily};font-size:16px;line-height:24px;color:#374151;">${escapeHtmlLines(paragraph)}</p>`, '16px 32px 0'));
  }
  if (content.action !== undefined && actionUrl !== undefined) rows.push(row(button(content.action.label, actionUrl), '24px 32px 0'));
  // Bottom padding of the card, so the last row needs no special case.
  rows.push('<tr><td style="padding:0 0 28px 0;font-size:0;line-height:0;">&nbsp;</td></tr>');

  const footer =
    content.footer === undefined
      ? ''
      : `<tr><td style="padding:16px 32px 0;font-family:${fontFamily};font-size:12px;line-height:18px;color:#6b7280;">${escapeHtmlLines(content.footer)}</td></tr>`;

  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>${escapeHtml(subject)}</title>`,
    '</head>',
    '<body style="margin:0;padding:0;background-color:#f3f4f6;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">',
    '<tr><td align="center" style="padding:24px 12px;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:560px;">',
    '<tr><td style="background-color:#ffffff;border:1px solid #e5e7eb;border-radius:8px;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">',
    ...rows,
    '</table>',
    '</td></tr>',
    footer,
    '</table>',
    '</td></tr>',
    '</table>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function row(cellHtml: string, padding: string): string {
  return `<tr><td style="padding:${padding};font-family:${fontFamily};">${cellHtml}</td></tr>`;
}

/** A "bulletproof" button: a link styled inside a coloured cell, which clients render without CSS support. */
function button(label: string, url: string): string {
  return [
    '<table role="presentation" cellpadding="0" cellspacing="0" border="0">',
    `<tr><td style="border-radius:6px;background-color:${accentColor};">`,
    `<a href="${escapeHtml(url)}" target="_blank" rel="noopener" style="display:inline-block;padding:12px 22px;font-family:${fontFamily};font-size:16px;line-height:20px;font-weight:bold;color:#ffffff;text-decoration:none;border-radius:6px;">${escapeHtml(label)}</a>`,
    '</td></tr>',
    '</table>',
  ].join('');
}

/**
 * The action URL, normalised. Only http(s) is allowed: a `javascript:` or `data:` link in an
 * email is an attack, and the caller building one is a bug, so this throws rather than drops it.
 */
function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new Error('email action URL is not an absolute URL', { cause: error });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`email action URL must be http(s), got ${url.protocol}`);
  }
  return url.href;
}

/** Header values must be one line: a CR or LF in a subject could start a new header. */
function singleLine(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => htmlEscapes[char] ?? char);
}

/** Escaped, with the author's line breaks kept as <br>. */
function escapeHtmlLines(value: string): string {
  return escapeHtml(value).replace(/\r\n|\r|\n/g, '<br>');
}
