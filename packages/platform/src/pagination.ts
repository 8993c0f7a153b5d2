// One way to page a list (Stripe's): `limit` (1–100) and `starting_after` (the last id of the
// previous page) in the query; the store fetches `limit + 1` rows after the cursor so `has_more`
// costs no count; the answer is `{ object: 'list', data, has_more }`.
import { Type, type TSchema } from '@fastify/type-provider-typebox';

/** 1 to 100, as query text (no coercion: "010" or "1e2" are refused). */
export const limitSchema = Type.String({ pattern: '^(100|[1-9][0-9]?)$' });

/** The query fields of a paged list; `cursor` is the schema of the list's ids. */
export function pageQuery<Cursor extends TSchema>(cursor: Cursor) {
  return { limit: Type.Optional(limitSchema), starting_after: Type.Optional(cursor) };
}

export function pageLimit(raw: string | undefined, defaultLimit: number): number {
  return raw === undefined ? defaultLimit : Number(raw);
}

/** A page from the `limit + 1` rows fetched. */
export function pageOf<Row>(rows: readonly Row[], limit: number): { rows: Row[]; hasMore: boolean } {
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}

export function listOf<Item>(data: readonly Item[], hasMore: boolean): { object: 'list'; data: Item[]; has_more: boolean } {
  // Typed as listSchema()'s Static (a mutable array); nothing writes to it.
  return { object: 'list', data: data as Item[], has_more: hasMore };
}

/** The schema of a page of `item`s, as listOf() writes it (the API document's list object). */
export function listSchema<Item extends TSchema>(item: Item, description = 'A page of the list (pagination: `limit`, `starting_after`).') {
  return Type.Object({
    object: Type.Literal('list'),
    data: Type.Array(item),
    has_more: Type.Boolean({ description: 'More items follow: ask again with `starting_after` set to the last item\'s id.' }),
  }, { description });
}
