// The password policy's rules a person can check while typing (services/users/src/passwords/:
// NIST SP 800-63B, at least 8 characters, at most 1024, never the username). The server also
// refuses common passwords and easy patterns (zxcvbn's estimate); its dictionaries are too big
// to ship to the browser, so that part is said in words and its refusal shown on the field.

export const minPasswordLength = 8;
export const maxPasswordLength = 1024;

export interface PasswordRule {
  readonly text: string;
  readonly met: boolean;
}

/** The rules, in the order shown, each met or not by `password` (characters counted as people count them). */
export function passwordRules(password: string, account: { readonly username?: string; readonly email?: string } = {}): PasswordRule[] {
  const length = [...password].length;
  const lower = password.toLowerCase();
  const own = [account.username, account.email, account.email?.split('@')[0]].filter((value): value is string => value !== undefined && value.length >= 3).map((value) => value.toLowerCase());
  return [
    { text: `At least ${minPasswordLength} characters`, met: length >= minPasswordLength },
    { text: `At most ${maxPasswordLength.toLocaleString('en')} characters`, met: length <= maxPasswordLength },
    { text: 'Not your username or email address', met: password !== '' && !own.includes(lower) },
    { text: 'Not one character repeated', met: password !== '' && new Set(password).size > 1 },
  ];
}

/** Whether every rule the browser can check is met (the server may still refuse a common password). */
export function meetsPasswordRules(password: string, account: { readonly username?: string; readonly email?: string } = {}): boolean {
  return passwordRules(password, account).every((rule) => rule.met);
}
