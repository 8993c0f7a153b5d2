// Ids as the API writes them, one definition for every service. A numeric id (users,
// notifications) is a canonical decimal of at most 15 digits: `007` names nobody here (the database
// would read it as 7), and answers write these ids as JSON numbers, which are exact only up to
// 2^53 (9,007,199,254,740,991): a longer one would be echoed as another id. An object id (pay_…, pm_…, dlv_…) is opaque to callers and only bounded.
import { Type } from '@fastify/type-provider-typebox';

export const numericIdPattern = '^[1-9][0-9]{0,14}$';
const numericId = new RegExp(numericIdPattern);

export function isNumericId(value: string): boolean {
  return numericId.test(value);
}

export const numericIdSchema = Type.String({ pattern: numericIdPattern });
/** The same id sent as a JSON number, under the same bound (a longer one parses as another number). */
export const numericIdInteger = Type.Integer({ minimum: 1, maximum: 999_999_999_999_999 });
export const objectIdSchema = Type.String({ maxLength: 64 });
/** `:id` path parameters. */
export const objectIdParams = Type.Object({ id: objectIdSchema });
