// A display name is shown to other people (the dashboard, an admin's lists, emails): text that
// cannot pass for something else. Control characters, line and paragraph separators, invisible tags
// and interlinear annotations, and the bidirectional formatting ones (which
// reorder what follows them on screen, so `‮gpj.exe` reads as `exe.jpg`) are refused, and so is a
// name with nothing visible in it. Joiners stay: emoji sequences and several scripts need them.
import { Type } from '@fastify/type-provider-typebox';
import { platformErrors } from '@paymesh/platform/errors';

export const displayNameSchema = Type.String({ minLength: 1, maxLength: 100, description: 'A name to show; no control or bidirectional formatting characters, and something visible.' });

const controlOrBidi = /[\p{Cc}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFFF9-\uFFFB\u{E0000}-\u{E007F}]/u;
const nothingVisible = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}]*$/u;

/** Throws 400 parameter_invalid (param display_name) for a name that may not be shown; null (no name) is fine. */
export function checkDisplayName(name: string | null | undefined): void {
  if (name === null || name === undefined) return;
  if (controlOrBidi.test(name)) throw platformErrors.invalidParameter('display_name', 'A display name may not contain control characters or bidirectional formatting characters.');
  if (nothingVisible.test(name)) throw platformErrors.invalidParameter('display_name', 'A display name needs at least one visible character.');
}
