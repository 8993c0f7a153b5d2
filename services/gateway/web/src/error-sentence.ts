// Errors as sentences a person reads: never raw JSON. The API's error object carries a message
// written for people (docs/errors.md); a failure to reach the platform gets its own sentence.
import { ConnectionError, PaymeshError } from '@paymesh/sdk';
import { SignInError } from './session.ts';

export function errorSentence(error: unknown): string {
  if (error instanceof SignInError) return error.message;
  if (error instanceof ConnectionError) return 'Paymesh could not be reached. Check your connection and try again.';
  if (error instanceof PaymeshError) {
    if (error.status === 401) return 'Your session has ended. Please sign in again.';
    if (error.status >= 500) return 'Paymesh could not complete the request. Please try again in a moment.';
    const message = error.message.trim();
    return /[.!?]$/.test(message) ? message : `${message}.`;
  }
  return 'Something went wrong. Please reload the page and try again.';
}
