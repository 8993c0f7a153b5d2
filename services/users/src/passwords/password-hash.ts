// argon2id with OWASP's parameters (m=19 MiB, t=2, p=1). A dummy hash is verified for unknown
// accounts so that "no such user" costs the same time as "wrong password".
import { hash, verify } from '@node-rs/argon2';

const options = { algorithm: 2 /* Algorithm.Argon2id: a const enum, which type stripping cannot inline */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, options);
}

let dummyHash: Promise<string> | undefined;

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  if (passwordHash === null) {
    dummyHash ??= hashPassword('timing-equaliser-not-a-password');
    await verify(await dummyHash, password);
    return false;
  }
  return verify(passwordHash, password);
}
