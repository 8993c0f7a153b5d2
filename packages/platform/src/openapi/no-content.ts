// A 204's response schema: no body (a route's `204: noContent('…')`). Not Type.Null, whose type would make `reply.send()` need an
// argument; `type: 'null'` is what tells @fastify/swagger to describe no content.
import { Type } from '@fastify/type-provider-typebox';

export const noContent = (description: string) => Type.Unsafe<void>({ type: 'null', description });
