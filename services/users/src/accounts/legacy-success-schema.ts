// The success body the compatibility contract fixes for its routes (POST /users/create_user,
// POST /users/delete_user): `{"success": true, "message": …}`.
import { Type } from '@fastify/type-provider-typebox';

export const legacySuccessSchema = Type.Object({
  success: Type.Literal(true),
  message: Type.String({ description: 'A sentence for a person, fixed by the contract.' }),
}, { description: 'Done (the compatibility contract\'s body).' });
