// Ids as the API writes them, one definition for every service. A numeric id (users,
// notifications) is a canonical decimal that fits a bigint: `007` names nobody here (the database
// would read it as 7). An object id (pay_…, pm_…, dlv_…) is opaque to callers and only bounded.
import { Type } from '@fastify/type-provider-typebox';

export const numericIdPattern = '^[1-9][0-9]{0,17}$';
const numericId = new RegExp(numericIdPattern);

export function isNumericId(value: string): boolean {
  return numericId.test(value);
}

export const numericIdSchema = Type.String({ pattern: numericIdPattern });
export const objectIdSchema = Type.String({ maxLength: 64 });
/** `:id` path parameters. */
export const objectIdParams = Type.Object({ id: objectIdSchema });
