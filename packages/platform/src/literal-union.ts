// One of a constant array's strings, as a union of literals: `Type.Union(values.map(Type.Literal))`
// loses the tuple (its static type is `never`); this keeps it, so the schema's type is the array's.
import { Type, type TLiteral, type TSchemaOptions, type TUnion } from '@fastify/type-provider-typebox';

type Literals<Values extends readonly string[]> = { -readonly [K in keyof Values]: TLiteral<Values[K]> };

export function literalUnion<const Values extends readonly string[]>(values: Values, options?: TSchemaOptions): TUnion<Literals<Values>> {
  return Type.Union(values.map((value) => Type.Literal(value)), options) as unknown as TUnion<Literals<Values>>;
}
