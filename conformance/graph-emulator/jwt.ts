// RS256 JWTs for id and access tokens, with the key served as a JWKS, so a
// client that validates signatures can (the emulator itself trusts only its
// own token table, not the signature).
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export class Signer {
  readonly #privateKey: KeyObject;
  readonly jwk: Record<string, unknown>;
  readonly kid: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#privateKey = privateKey;
    const pub = publicKey.export({ format: 'jwk' });
    this.kid = createHash('sha256').update(String(pub.n)).digest('base64url').slice(0, 27);
    this.jwk = { kty: 'RSA', use: 'sig', kid: this.kid, x5t: this.kid, n: pub.n, e: pub.e };
  }

  sign(claims: Record<string, unknown>): string {
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: this.kid, x5t: this.kid }));
    const body = b64url(JSON.stringify(claims));
    return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), this.#privateKey).toString('base64url')}`;
  }
}

export function decodeJwt(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
