// How many guesses a password would take, estimated by zxcvbn (the maintained TypeScript port):
// dictionaries of common passwords, words and names, keyboard patterns, repeats, sequences, dates,
// l33t spellings, and the account's own inputs (username, email, display name) as one more
// dictionary. Its feedback is what we show a person whose password is refused.
import { createRequire } from 'node:module';
import type * as ZxcvbnCore from '@zxcvbn-ts/core';
import type * as LanguageCommon from '@zxcvbn-ts/language-common';
import type * as LanguageEn from '@zxcvbn-ts/language-en';

// Required on first use, not imported: the dictionaries are megabytes of JavaScript that a start
// would otherwise parse for nothing (the packages are CommonJS, so require is synchronous).
const require = createRequire(import.meta.url);

/**
 * At least 10^8 guesses (the edge of zxcvbn's score 3). Online guessing is throttled (auth's login
 * throttle), so this is about the patterns attackers try in their first hundred million guesses,
 * online or against a stolen argon2id hash. A threshold on guesses rather than on the score: 8
 * random characters are estimated at exactly 10^8 guesses (zxcvbn caps brute force there), which
 * score 3 refuses by a hair, and NIST's 8-character minimum must stay reachable for a password
 * manager's output.
 */
export const minimumGuesses = 1e8;

/**
 * The estimate's cost grows with the length and with the l33t substitutions tried (a 300-character
 * random string took seconds with the defaults). Only the first 64 characters are estimated (a
 * password that is weak in them is refused; one that is strong in them is strong), and at most 2
 * substitutions per password are tried (`p4$$w0rd` and `P@ssw0rd2024` are still found).
 */
const estimatedLength = 64;

let factory: ZxcvbnCore.ZxcvbnFactory | undefined;

// Built on first use (loading the dictionaries takes a few hundred milliseconds), not at start.
function estimator(): ZxcvbnCore.ZxcvbnFactory {
  if (factory === undefined) {
    const { ZxcvbnFactory } = require('@zxcvbn-ts/core') as typeof ZxcvbnCore;
    const { adjacencyGraphs, dictionary: commonDictionary } = require('@zxcvbn-ts/language-common') as typeof LanguageCommon;
    const { dictionary: englishDictionary, translations } = require('@zxcvbn-ts/language-en') as typeof LanguageEn;
    factory = new ZxcvbnFactory({
      translations,
      graphs: adjacencyGraphs,
      dictionary: { ...commonDictionary, ...englishDictionary },
      l33tMaxSubstitutions: 2,
      maxLength: estimatedLength,
    });
  }
  return factory;
}

export interface StrengthVerdict {
  readonly strong: boolean;
  readonly score: number;
  /** Why it is weak and what to do instead, in sentences for people (empty when strong). */
  readonly reasons: readonly string[];
}

export function estimateStrength(password: string, userInputs: readonly string[]): StrengthVerdict {
  // Each input whole and in its parts: `ana.silva@example.com` also gives `ana`, `silva`, `example`.
  const inputs = [...new Set(userInputs.flatMap((input) => [input, ...input.split(/[^\p{L}\p{N}]+/u)]).filter((part) => part.length >= 3).map((part) => part.toLowerCase()))];
  const result = estimator().check(password, inputs);
  if (result.guesses >= minimumGuesses) return { strong: true, score: result.score, reasons: [] };
  const reasons = [result.feedback.warning, ...result.feedback.suggestions].filter((reason): reason is string => typeof reason === 'string' && reason !== '');
  // zxcvbn says nothing for some weak passwords (a short one with no pattern): the rule itself is the reason.
  return { strong: false, score: result.score, reasons: reasons.length > 0 ? reasons : ['Use a longer password: a few uncommon words make one that is easy to remember.'] };
}
