import { randomBytes } from 'node:crypto'
import type { OAuth2Client } from 'google-auth-library'
import { sha256 } from '../../auth/api-tokens.ts'
import type { SecretBox } from '../../auth/secrets.ts'
import type { Db } from '../../db/connect.ts'
import type { User } from '../../db/schema.ts'
import { DomainError, invalid } from '../../domain/errors.ts'
import { saveConnection, type KeptAccess } from '../connections.ts'
import { syncDb, type Connection } from '../tables.ts'
import { calendarClient, call, CONTACTS_SCOPE, delegatedClient, oauthClient, SCOPES, type GoogleEndpoints, type TokenKeeper } from './client.ts'
import { loadGoogleIntegration, type GoogleDefaults, type GoogleIntegration } from './integration.ts'

const STATE_TTL_MS = 15 * 60_000

export type ConsentDeps = { db: Db; secrets: SecretBox; publicUrl: string; endpoints: GoogleEndpoints; defaults: GoogleDefaults }

/** Served by the web pages (src/web/connections.ts): the callback needs the signed-in user. */
export const callbackUrl = (publicUrl: string) => `${publicUrl}/connections/google/callback`

/** The organisation's OAuth app, sending users back to our callback. */
export const appClient = (deps: ConsentDeps, integration: GoogleIntegration, keeper: TokenKeeper | null = null): OAuth2Client =>
  oauthClient(deps.endpoints, { clientId: integration.clientId, clientSecret: integration.clientSecret, redirectUri: callbackUrl(deps.publicUrl) }, keeper)

/** Whose Google account the access is for, and this user's connection to it if there is one (a reconnect). */
async function accountOf (deps: ConsentDeps, user: User, auth: OAuth2Client): Promise<{ account: string; existing: Connection | undefined }> {
  const primary = await call('read the primary calendar', () => calendarClient(deps.endpoints, auth).calendars.get({ calendarId: 'primary' }))
  const account = String(primary.id)
  const existing = await syncDb(deps.db).selectFrom('sync_connections').selectAll()
    .where('user_id', '=', user.id).where('provider', '=', 'google').where(eb => eb(eb.fn('lower', ['account']), '=', account.toLowerCase())).executeTakeFirst()
  return { account, existing }
}

async function enabledIntegration (deps: ConsentDeps, user: User): Promise<GoogleIntegration> {
  const integration = await loadGoogleIntegration(deps.db, deps.secrets, user.org_id, deps.defaults)
  if (integration === null || !integration.enabled || integration.clientId === '') {
    throw new DomainError('conflict', 'Google is not set up for this organisation yet; an admin enables it under Admin → Integrations', { rule: 'integration-disabled' })
  }
  return integration
}

/**
 * The address of Google's consent screen for this user. The state parameter
 * is single-use, short-lived, stored hashed and bound to the user who asked,
 * so a callback cannot attach someone else's account (OAuth CSRF).
 */
export async function consentUrl (deps: ConsentDeps, user: User, opts: { loginHint?: string } = {}): Promise<string> {
  const integration = await enabledIntegration(deps, user)
  const state = randomBytes(24).toString('base64url')
  await syncDb(deps.db).deleteFrom('oauth_states').where('expires_at', '<', new Date()).execute()
  await syncDb(deps.db).insertInto('oauth_states').values({ state_sha256: sha256(state), user_id: user.id, provider: 'google', connection_id: null, expires_at: new Date(Date.now() + STATE_TTL_MS) }).execute()
  return appClient(deps, integration).generateAuthUrl({
    access_type: 'offline',
    prompt: 'consent',
    include_granted_scopes: true,
    scope: [...SCOPES, CONTACTS_SCOPE],
    state,
    ...(opts.loginHint === undefined ? {} : { login_hint: opts.loginHint })
  })
}

/**
 * Google sent the user back: trade the code for tokens, find whose account
 * it is, and create the connection, or refresh the credentials of the one
 * that exists (a reconnect resumes from its links and cursors).
 */
export async function completeConsent (deps: ConsentDeps, user: User, query: { code?: string; state?: string; error?: string }): Promise<{ connection: Connection; reconnected: boolean }> {
  const state = query.state ?? ''
  const row = await syncDb(deps.db).deleteFrom('oauth_states').where('state_sha256', '=', sha256(state)).returningAll().executeTakeFirst()
  if (row === undefined || row.user_id !== user.id || row.expires_at < new Date()) {
    throw new DomainError('forbidden', 'this Google sign-in was not started here, or it took too long; start again from Connections', { rule: 'oauth-state' })
  }
  if (query.error !== undefined) throw new DomainError('forbidden', query.error === 'access_denied' ? 'Google access was not granted' : `Google answered: ${query.error}`, { rule: 'oauth-denied' })
  if (query.code === undefined || query.code === '') throw invalid('code', 'is missing from Google\'s answer')
  const integration = await enabledIntegration(deps, user)
  const client = appClient(deps, integration)
  let tokens
  try {
    tokens = (await client.getToken(query.code)).tokens
  } catch (e) {
    throw new DomainError('forbidden', `Google did not accept the sign-in: ${(e as Error).message}`, { rule: 'oauth-code' })
  }
  const granted = new Set((tokens.scope ?? '').split(' '))
  const missing = SCOPES.filter(s => s.startsWith('https:') && !granted.has(s))
  if (missing.length > 0) throw new DomainError('forbidden', `Google access was granted without ${missing.map(s => s.split('/').pop()).join(' and ')}; connect again and allow calendars and tasks`, { rule: 'oauth-scope' })
  client.setCredentials(tokens)
  const { account, existing } = await accountOf(deps, user, client)
  if (tokens.refresh_token == null && existing?.credentials_sealed == null) {
    throw new DomainError('forbidden', 'Google did not grant offline access; remove Kalends under your Google account\'s third-party access and connect again', { rule: 'oauth-offline' })
  }
  const sealed = tokens.refresh_token == null ? (existing?.credentials_sealed ?? null) : deps.secrets.seal(tokens.refresh_token)
  return saveConnection(deps.db, user, 'google', account, 'oauth', sealed, existing, keptAccess(deps, client))
}

/** Workspace domain-wide delegation: no consent screen; the service account acts for the user's address. */
export async function connectDelegated (deps: ConsentDeps, user: User): Promise<{ connection: Connection; reconnected: boolean }> {
  const integration = await enabledIntegration(deps, user)
  if (integration.serviceAccount === null || integration.delegationDomain === null) throw new DomainError('conflict', 'no Workspace service account is set up for this organisation', { rule: 'integration-disabled' })
  const email = (user.email ?? '').toLowerCase()
  if (!email.endsWith(`@${integration.delegationDomain}`)) throw invalid('email', `your address must be in ${integration.delegationDomain} to connect through the Workspace`)
  const client = delegatedClient(deps.endpoints, integration.serviceAccount, email)
  const { account, existing } = await accountOf(deps, user, client)
  return saveConnection(deps.db, user, 'google', account, 'delegation', null, existing, keptAccess(deps, client))
}

/** The access token the consent brought, sealed, so the first run need not refresh. */
function keptAccess (deps: ConsentDeps, auth: OAuth2Client): KeptAccess {
  const { access_token: token, expiry_date: expiresAt } = auth.credentials
  return token == null || expiresAt == null ? { access_sealed: null, access_expires_at: null } : { access_sealed: deps.secrets.seal(token), access_expires_at: new Date(expiresAt) }
}

