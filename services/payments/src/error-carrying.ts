// A 402 that carries the object it is about inside the error, as Stripe puts the payment_intent
// there: the API's error object with that field added, written out in full so that the document
// shows the field and the response check (which closes every object) admits it.
import { Type, type TProperties } from '@fastify/type-provider-typebox';
import { errorBodySchema } from '@paymesh/platform/openapi/use-open-api';

const described = errorBodySchema.properties.error.properties;

export function errorCarrying<Carried extends TProperties>(carried: Carried, description: string) {
  return Type.Object({
    error: Type.Object({
      type: Type.String({ description: described.type.description }),
      code: Type.String({ description: described.code.description }),
      message: Type.String({ description: described.message.description }),
      param: Type.Optional(Type.String({ description: described.param.description })),
      decline_code: Type.Optional(Type.String({ description: described.decline_code.description })),
      ...carried,
    }),
  }, { description });
}
