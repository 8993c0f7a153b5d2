// The JSON body parser every service uses. Before parsing, the nesting depth is checked on the
// text (a linear scan, no recursion): a deeply nested body would otherwise overflow the stack in
// whatever walks it later (validation, JSONB serialisation) and come back as a 500. After parsing,
// a NUL anywhere in a string or key is refused: PostgreSQL text and JSONB cannot hold it (22021,
// 22P05), and it means nothing in any field of ours; so is an unpaired surrogate (a `\uD800` escape
// alone), which is no character at all and which JSONB refuses (22P02).
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { AppError, platformErrors } from './errors.ts';

/** Deeper than any body of ours needs (notification `data` included). */
export const maxJsonDepth = 32;

/** Parses the text; throws on invalid JSON (any error becomes 400 body_malformed). */
export type JsonParse = (text: string) => unknown;

/** Fastify's own default: `__proto__` and `constructor.prototype` keys are refused (prototype poisoning). */
export const secureJsonParse: JsonParse = (text) => secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });

/** Takes any Fastify instance (http-server.ts calls it on each it builds), so this file needs nothing of that one. */
export function useJsonParser(app: FastifyInstance, parse: JsonParse = secureJsonParse): void {
  if (app.hasContentTypeParser('application/json')) app.removeContentTypeParser('application/json');
  // No route takes plain text: a JSON body sent as text/plain is 415 media_type_unsupported, as
  // any other type is, instead of a string that fails validation with a puzzling "must be object".
  if (app.hasContentTypeParser('text/plain')) app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text === '') return done(platformErrors.malformedBody('The JSON body is empty.'), undefined);
    if (nestsDeeperThan(text, maxJsonDepth)) return done(platformErrors.bodyTooDeep(maxJsonDepth), undefined);
    let value: unknown;
    try {
      value = parse(text);
    } catch (error) {
      return done(error instanceof AppError ? error : platformErrors.malformedBody('The request body is not valid JSON.'), undefined);
    }
    const bad = badText(value);
    if (bad === 'nul') return done(platformErrors.nulInText(), undefined);
    if (bad === 'surrogate') return done(platformErrors.textNotUnicode(), undefined);
    done(null, value);
  });
}

/** Whether objects and arrays nest deeper than `max` (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** What in a string or key no column of ours can hold, if anything. Depth is bounded by the check above, so the recursion is too. */
function badText(value: unknown): 'nul' | 'surrogate' | undefined {
  if (typeof value === 'string') return textFault(value);
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const bad = badText(item);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const bad = textFault(key) ?? badText(item);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function textFault(text: string): 'nul' | 'surrogate' | undefined {
  if (text.includes('\u0000')) return 'nul';
  return text.isWellFormed() ? undefined : 'surrogate';
}
