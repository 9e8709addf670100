// Secrets and their hashes: random secrets, SHA-256 for tokens and session
// ids, argon2id for passwords, and constant-time comparison.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argonHash } from '@node-rs/argon2';

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export async function hashPassword(password: string): Promise<string> {
  // argon2id with OWASP's baseline parameters (19 MiB, 2 passes).
  return argonHash(password, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

export function csrfTokensMatch(expected: string, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
