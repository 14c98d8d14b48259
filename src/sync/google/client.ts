import type { CallHeaders } from '../run-header.ts'
import { createSign } from 'node:crypto'
import { OAuth2Client, type Credentials } from 'google-auth-library'
// Only the two APIs used: the googleapis index would load every Google API.
import { calendar_v3 as calendarApi } from 'googleapis/build/src/apis/calendar/index.js'
import { tasks_v1 as tasksApi } from 'googleapis/build/src/apis/tasks/index.js'
import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/index.js'
import type { tasks_v1 } from 'googleapis/build/src/apis/tasks/index.js'
import { people_v1 as peopleApi } from 'googleapis/build/src/apis/people/index.js'
import type { people_v1 } from 'googleapis/build/src/apis/people/index.js'
import { AuthFailed, CursorExpired, RemoteConflict, Transient, type AccessToken } from '../provider.ts'

/**
 * Where Google lives. Production uses Google's own addresses; tests point the
 * same client library at the emulator in conformance/google-emulator.
 */
export type GoogleEndpoints = { apiRoot: string; authUrl: string; tokenUrl: string; revokeUrl: string }

/** Google's addresses, or all of them under one base (the emulator). */
export function googleEndpoints (baseUrl: string | null): GoogleEndpoints {
  if (baseUrl === null) {
    return {
      apiRoot: 'https://www.googleapis.com/',
      authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      revokeUrl: 'https://oauth2.googleapis.com/revoke'
    }
  }
  const base = baseUrl.replace(/\/+$/, '')
  return { apiRoot: `${base}/`, authUrl: `${base}/o/oauth2/v2/auth`, tokenUrl: `${base}/token`, revokeUrl: `${base}/revoke` }
}

export const SCOPES = ['https://www.googleapis.com/auth/calendar', 'https://www.googleapis.com/auth/tasks', 'openid', 'email']
/** Asked with the others, optional: without it only the contacts push stops, with a reason (People API, issue 13). */
export const CONTACTS_SCOPE = 'https://www.googleapis.com/auth/contacts'

export type OAuthApp = { clientId: string; clientSecret: string; redirectUri: string }

/** Where a client finds the access token kept from before and keeps a new one (a ProviderContext). */
export type TokenKeeper = { access: AccessToken | null; saveAccess (access: AccessToken): Promise<void> }

/** A kept access token is used until this long before it expires, then refreshed. */
export const ACCESS_MARGIN_MS = 5 * 60_000

/**
 * An OAuth client that reuses the access token kept by earlier runs (an hour's
 * worth: Google's tokens live 3,600 s) instead of asking the token endpoint on
 * every run. It refreshes when less than ACCESS_MARGIN_MS are left, or once
 * when Google answers 401 (a token Google dropped early, a clock off), and
 * keeps what it got before the request that needed it goes on.
 * The library's own retry (forceRefreshOnFailure) would refresh on every 403
 * too, and 403 is also Google's rate-limit answer.
 */
class KeptTokenClient extends OAuth2Client {
  readonly #keeper: TokenKeeper | null

  constructor (opts: ConstructorParameters<typeof OAuth2Client>[0] & object, keeper: TokenKeeper | null) {
    super({ ...opts, eagerRefreshThresholdMillis: ACCESS_MARGIN_MS })
    this.#keeper = keeper
  }

  protected override async getRequestMetadataAsync (url?: string | URL | null) {
    const before = this.credentials.access_token
    const metadata = await super.getRequestMetadataAsync(url)
    const { access_token: token, expiry_date: expiresAt } = this.credentials
    if (this.#keeper !== null && token != null && token !== before && expiresAt != null) await this.#keeper.saveAccess({ token, expiresAt })
    return metadata
  }

  protected override async requestAsync<T> (opts: Parameters<OAuth2Client['request']>[0], reAuthRetried = false) {
    try {
      return await super.requestAsync<T>(opts, true)
    } catch (e) {
      if (reAuthRetried || statusOf(e) !== 401 || this.credentials.access_token == null) throw e
      this.credentials = { ...this.credentials, access_token: null, expiry_date: null }
      return await super.requestAsync<T>(opts, true)
    }
  }
}

/** The refresh token and the kept access token, as a client's credentials. */
export function withKeptAccess (refreshToken: string | null, keeper: TokenKeeper): Credentials {
  return {
    ...(refreshToken === null ? {} : { refresh_token: refreshToken }),
    ...(keeper.access === null ? {} : { access_token: keeper.access.token, expiry_date: keeper.access.expiresAt })
  }
}

export function oauthClient (ep: GoogleEndpoints, app: OAuthApp, keeper: TokenKeeper | null = null): OAuth2Client {
  return new KeptTokenClient({
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: app.redirectUri,
    endpoints: { oauth2AuthBaseUrl: ep.authUrl, oauth2TokenUrl: ep.tokenUrl, oauth2RevokeUrl: ep.revokeUrl }
  }, keeper)
}

export type ServiceAccount = { clientEmail: string; privateKey: string }

/**
 * Domain-wide delegation: a service account signs a JWT naming the user it
 * acts for and trades it for an access token (RFC 7523). google-auth-library's
 * JWT client cannot be pointed at another token endpoint, so the grant is made
 * here and handed to an OAuth2Client as its refresh handler.
 */
export function delegatedClient (ep: GoogleEndpoints, sa: ServiceAccount, subject: string, keeper: TokenKeeper | null = null, withContacts = false): OAuth2Client {
  const client = new KeptTokenClient({ endpoints: { oauth2TokenUrl: ep.tokenUrl } }, keeper)
  client.refreshHandler = async () => {
    const now = Math.floor(Date.now() / 1000)
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: sa.clientEmail, sub: subject, scope: [...SCOPES.filter(s => s.startsWith('https:')), ...(withContacts ? [CONTACTS_SCOPE] : [])].join(' '), aud: ep.tokenUrl, iat: now, exp: now + 3600 })}`
    const signature = createSign('RSA-SHA256').update(unsigned).sign(sa.privateKey).toString('base64url')
    const res = await fetch(ep.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${unsigned}.${signature}` })
    })
    const body = await res.json().catch(() => ({})) as { access_token?: string; expires_in?: number; error?: string; error_description?: string }
    if (!res.ok || body.access_token === undefined) {
      if (res.status >= 500 || res.status === 429) throw new Transient(`Google token endpoint answered ${res.status}`)
      throw new AuthFailed(`Google refused the service account for ${subject}: ${body.error_description ?? body.error ?? res.status}`)
    }
    return { access_token: body.access_token, expiry_date: Date.now() + (body.expires_in ?? 3600) * 1000 }
  }
  return client
}

/** Headers sent with every call of a client (the run's id, see provider.ts). */

export function calendarClient (ep: GoogleEndpoints, auth: OAuth2Client, headers: CallHeaders = {}): calendar_v3.Calendar {
  return new calendarApi.Calendar({ rootUrl: ep.apiRoot, auth, retry: false, timeout: 30_000, headers })
}

export function tasksClient (ep: GoogleEndpoints, auth: OAuth2Client, headers: CallHeaders = {}): tasks_v1.Tasks {
  return new tasksApi.Tasks({ rootUrl: ep.apiRoot, auth, retry: false, timeout: 30_000, headers })
}

/** The People API lives at people.googleapis.com (not www.googleapis.com); the emulator serves it at its base. */
export function peopleClient (ep: GoogleEndpoints, auth: OAuth2Client, headers: CallHeaders = {}): people_v1.People {
  const rootUrl = ep.apiRoot === 'https://www.googleapis.com/' ? 'https://people.googleapis.com/' : ep.apiRoot
  return new peopleApi.People({ rootUrl, auth, retry: false, timeout: 30_000, headers })
}

type GoogleFailure = { status?: number; code?: string | number; message: string; response?: { status?: number; headers?: unknown; data?: unknown } }

function reasonOf (err: GoogleFailure): string {
  const data = err.response?.data as { error?: { errors?: { reason?: string }[]; message?: string } | string; error_description?: string } | undefined
  if (typeof data?.error === 'string') return data.error
  return data?.error?.errors?.[0]?.reason ?? ''
}

/**
 * A refusal not worth retrying (400, 403, 404 ...): a plain error to the engine,
 * marked so a second classify (an outer catch) passes it through unchanged.
 */
export class GoogleRefused extends Error {}

/** Google's answers, sorted into what the engine does about them. */
export function classify (e: unknown, what: string): Error {
  if (e instanceof AuthFailed || e instanceof Transient || e instanceof RemoteConflict || e instanceof CursorExpired || e instanceof GoogleRefused) return e
  const err = e as GoogleFailure
  const status = err.response?.status ?? err.status
  const reason = reasonOf(err)
  if (reason === 'invalid_grant' || reason === 'unauthorized_client' || reason === 'invalid_client') {
    return new AuthFailed(`Google access was revoked or has expired (${reason}); reconnect the account`)
  }
  if (status === 401) return new AuthFailed('Google refused the access token; reconnect the account')
  if (status === 403 && (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded' || reason === 'quotaExceeded')) return new Transient(`Google rate limit (${reason}) on ${what}`)
  // contacts are optional: without their scope only the contacts push stops, calendars and tasks go on
  if (status === 403 && reason === 'insufficientPermissions' && what.includes('contact')) return new GoogleRefused('Google did not grant access to contacts; reconnect and allow it, or switch the contacts push off')
  if (status === 403 && reason === 'insufficientPermissions') return new AuthFailed('Google did not grant access to calendars and tasks; reconnect and allow both')
  if (status === 410 && what.startsWith('list')) return new CursorExpired('sync token expired')
  if (status === 412) return new RemoteConflict(`${what}: changed meanwhile`)
  if (status === 429 || (status !== undefined && status >= 500)) return new Transient(`Google answered ${status} to ${what}`)
  if (status === undefined) return new Transient(`no answer from Google to ${what}: ${err.code ?? err.message}`)
  return new GoogleRefused(`Google answered ${status}${reason === '' ? '' : ` (${reason})`} to ${what}: ${err.message}`)
}

export async function call<T> (what: string, fn: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await fn()).data
  } catch (e) {
    if (!staleConnection(e)) throw classify(e, what)
  }
  // a read on a kept-alive connection the server closed while it idled (a long first import
  // between two listings): once more on a fresh one, instead of failing the whole run
  try {
    return (await fn()).data
  } catch (e) {
    throw classify(e, what)
  }
}

function staleConnection (e: unknown): boolean {
  const err = e as GoogleFailure & { config?: { method?: string } }
  return err.response === undefined && err.code === 'ECONNRESET' && err.config?.method?.toUpperCase() === 'GET'
}

export function statusOf (e: unknown): number | undefined {
  const err = e as GoogleFailure
  return err.response?.status ?? err.status
}

const gone = (e: unknown) => statusOf(e) === 404 || statusOf(e) === 410

/** A read that may find the item gone (404, or 410 for deleted): null then. */
export async function unlessGone<T> (what: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn()
  } catch (e) {
    if (gone(e)) return null
    throw classify(e, what)
  }
}

/** Request options of a write: If-Match when the item's etag is known. */
export const ifMatch = (etag: string | null | undefined) => etag == null ? {} : { headers: { 'If-Match': etag } }

/** A write to an item that must still be there: gone means a conflict the engine resolves by reading again. */
export async function updateExisting<T> (what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    if (e instanceof RemoteConflict) throw e
    if (gone(e)) throw new RemoteConflict(`${what}: it is gone`)
    throw classify(e, what)
  }
}

/**
 * A delete: an item already gone is done; one changed outside since we last
 * saw it (412) is deleted anyway, since the CRM's deletion still stands.
 */
export async function removeRemote (what: string, remove: (etag: string | null) => Promise<unknown>, etag: string | null): Promise<void> {
  try {
    await remove(etag)
  } catch (e) {
    if (gone(e)) return
    if (statusOf(e) === 412 && etag !== null) return removeRemote(what, remove, null)
    throw classify(e, what)
  }
}
