import type { FastifyRequest } from 'fastify'
import type { Db } from '../db/connect.ts'
import type { User } from '../db/schema.ts'
import { userForApiToken } from '../auth/api-tokens.ts'
import type { Along, SignIn } from '../auth/sign-in.ts'
import { DomainError } from '../domain/errors.ts'

export type Credentials = { kind: 'basic'; login: string; secret: string } | { kind: 'bearer'; token: string } | null

export function credentialsOf (request: FastifyRequest): Credentials {
  const header = request.headers.authorization
  if (header === undefined) return null
  const [scheme, value] = header.split(' ', 2)
  if (value === undefined) return null
  if (scheme?.toLowerCase() === 'bearer') return { kind: 'bearer', token: value.trim() }
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 1) return null
    return { kind: 'basic', login: decoded.slice(0, colon), secret: decoded.slice(colon + 1) }
  }
  return null
}

/** Which credential signed the request in: app passwords are for calendar apps only. */
export type SignedInWith = { user: User; credential: 'password' | 'app-password' | 'api-token' }

/**
 * Who sent the request: Basic with a password or app password (what DAV
 * clients send), or a Bearer API token. Null when no credentials came;
 * wrong ones are refused here so every caller treats them alike.
 */
export async function signedIn<T = never> (db: Db, signIn: SignIn, request: FastifyRequest, along?: Along<T>): Promise<(SignedInWith & { along?: T }) | null> {
  const creds = credentialsOf(request)
  if (creds === null) return null
  if (creds.kind === 'bearer') {
    const user = await userForApiToken(db, creds.token)
    if (user === null) throw new DomainError('unauthorized', 'the API token is unknown or revoked')
    return { user, credential: 'api-token' }
  }
  const result = await signIn.verify(creds.login, creds.secret, request, along)
  if (result === null) throw new DomainError('unauthorized', 'wrong user name or password')
  return { user: result.user, credential: result.appPasswordId === null ? 'password' : 'app-password', ...('along' in result ? { along: result.along as T } : {}) }
}

export async function authenticate (db: Db, signIn: SignIn, request: FastifyRequest): Promise<User | null> {
  return (await signedIn(db, signIn, request))?.user ?? null
}
