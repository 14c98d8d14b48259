import { createHash, createHmac, randomBytes } from 'node:crypto'
import { sha256 } from '../../auth/api-tokens.ts'
import type { User } from '../../db/schema.ts'
import { DomainError, invalid } from '../../domain/errors.ts'
import { saveConnection } from '../connections.ts'
import { AuthFailed } from '../provider.ts'
import { syncDb, type Connection } from '../tables.ts'
import { GraphClient } from './client.ts'
import { DELEGATED_SCOPES, msalApp, readableReason, appTokens } from './identity.ts'
import { loadGraphIntegration, type GraphIntegration } from './integration.ts'
import type { GraphDeps } from './provider.ts'

const STATE_TTL_MS = 15 * 60_000

/** Served by the web pages (src/web/connections.ts): the callback needs the signed-in user. */
export const graphCallbackUrl = (publicUrl: string) => `${publicUrl}/connections/microsoft/callback`

/**
 * The PKCE verifier of a sign-in (RFC 7636), derived from its state with a
 * server key: nothing more to store, and the state alone (which travels in
 * the redirect with the code) does not give it away.
 */
function verifierOf (deps: GraphDeps, state: string): { verifier: string; challenge: string } {
  const verifier = createHmac('sha256', deps.secrets.derive('graph-pkce')).update(state).digest('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

async function enabledIntegration (deps: GraphDeps, user: User): Promise<GraphIntegration> {
  const integration = await loadGraphIntegration(deps.db, deps.secrets, user.org_id)
  if (integration === null || !integration.enabled || integration.clientId === '' || (integration.clientSecret === '' && integration.certificate === null)) {
    throw new DomainError('conflict', 'Microsoft 365 is not set up for this organisation yet; an admin enables it under Admin → Integrations', { rule: 'integration-disabled' })
  }
  return integration
}

async function existingFor (deps: GraphDeps, user: User, account: string): Promise<Connection | undefined> {
  return syncDb(deps.db).selectFrom('sync_connections').selectAll()
    .where('user_id', '=', user.id).where('provider', '=', 'graph').where(eb => eb(eb.fn('lower', ['account']), '=', account.toLowerCase())).executeTakeFirst()
}

/**
 * The address of Microsoft's sign-in and consent page for this user
 * (authorization code with PKCE, v2-oauth2-auth-code-flow.md). The state is
 * single-use, short-lived, stored hashed and bound to the user who asked.
 */
export async function graphConsentUrl (deps: GraphDeps, user: User, opts: { loginHint?: string } = {}): Promise<string> {
  const integration = await enabledIntegration(deps, user)
  const state = randomBytes(24).toString('base64url')
  await syncDb(deps.db).deleteFrom('oauth_states').where('expires_at', '<', new Date()).execute()
  await syncDb(deps.db).insertInto('oauth_states').values({ state_sha256: sha256(state), user_id: user.id, provider: 'graph', connection_id: null, expires_at: new Date(Date.now() + STATE_TTL_MS) }).execute()
  return msalApp(deps.endpoints, integration).getAuthCodeUrl({
    scopes: DELEGATED_SCOPES,
    redirectUri: graphCallbackUrl(deps.publicUrl),
    state,
    codeChallenge: verifierOf(deps, state).challenge,
    codeChallengeMethod: 'S256',
    prompt: 'select_account',
    ...(opts.loginHint === undefined ? {} : { loginHint: opts.loginHint })
  })
}

/** An identity-platform refusal during sign-in, as the page shows it. */
function refused (e: unknown): DomainError {
  const reason = readableReason(e) ?? `Microsoft did not accept the sign-in: ${(e as { errorMessage?: string }).errorMessage ?? (e as Error).message}`
  return new DomainError('forbidden', reason, { rule: 'oauth-code' })
}

/**
 * Microsoft sent the user back: trade the code (with the PKCE verifier) for
 * tokens, and create the connection, or refresh the credentials of the one
 * that exists (a reconnect resumes from its links and cursors). What is
 * kept is MSAL's token cache, sealed: its refresh token rotates in it.
 */
export async function completeGraphConsent (deps: GraphDeps, user: User, query: { code?: string; state?: string; error?: string; error_description?: string }): Promise<{ connection: Connection; reconnected: boolean }> {
  const state = query.state ?? ''
  const row = await syncDb(deps.db).deleteFrom('oauth_states').where('state_sha256', '=', sha256(state)).returningAll().executeTakeFirst()
  if (row === undefined || row.user_id !== user.id || row.provider !== 'graph' || row.expires_at < new Date()) {
    throw new DomainError('forbidden', 'this Microsoft sign-in was not started here, or it took too long; start again from Connections', { rule: 'oauth-state' })
  }
  if (query.error !== undefined) {
    const reason = readableReason({ errorCode: query.error, errorMessage: query.error_description ?? '' })
    throw new DomainError('forbidden', reason ?? (query.error === 'access_denied' ? 'Microsoft 365 access was not granted' : `Microsoft answered: ${query.error}`), { rule: 'oauth-denied' })
  }
  if (query.code === undefined || query.code === '') throw invalid('code', 'is missing from Microsoft\'s answer')
  const integration = await enabledIntegration(deps, user)
  const app = msalApp(deps.endpoints, integration)
  let result
  try {
    result = await app.acquireTokenByCode({ code: query.code, scopes: DELEGATED_SCOPES, redirectUri: graphCallbackUrl(deps.publicUrl), codeVerifier: verifierOf(deps, state).verifier })
  } catch (e) {
    throw refused(e)
  }
  const granted = new Set(result.scopes.map(s => s.toLowerCase()))
  const missing = DELEGATED_SCOPES.filter(s => s.startsWith('https:') && !granted.has(s.toLowerCase()) && !granted.has(s.split('/').pop()!.toLowerCase()))
  if (missing.length > 0) throw new DomainError('forbidden', `Microsoft 365 access was granted without ${missing.map(s => s.split('/').pop()).join(' and ')}; connect again and allow calendars and tasks`, { rule: 'oauth-scope' })
  const account = result.account?.username ?? ''
  if (account === '') throw new DomainError('forbidden', 'Microsoft did not say which account signed in', { rule: 'oauth-code' })
  const cache = app.getTokenCache().serialize()
  if (!cache.includes('"RefreshToken"') || cache.includes('"RefreshToken":{}')) {
    throw new DomainError('forbidden', 'Microsoft did not grant offline access (offline_access); connect again and allow it', { rule: 'oauth-offline' })
  }
  const existing = await existingFor(deps, user, account)
  return saveConnection(deps.db, user, 'graph', account, 'oauth', deps.secrets.seal(cache), existing)
}

type AppAccess = { token: string; expiresAt: number }

/** The app's own sign-in (client credentials), its token kept in memory for the calls that follow. */
function appOnly (deps: GraphDeps, integration: GraphIntegration) {
  const kept = { credentials: null, access: null as AppAccess | null, async saveCredentials () {}, async saveAccess (a: AppAccess) { kept.access = a } }
  const tokens = appTokens(deps.endpoints, integration, kept)
  const readCalendar = async (email: string) => new GraphClient(deps.endpoints, tokens).call('read the calendar', { method: 'GET', path: `/users/${encodeURIComponent(email)}/events?$top=1` })
  return { kept, tokens, readCalendar }
}

/**
 * The organisation-wide set-up: no sign-in of the user, the app's
 * application permissions reach the user's mailbox by their address
 * (calendars only: To Do has no application permission). The first call
 * proves the permission is granted for that mailbox.
 */
export async function connectGraphOrganisation (deps: GraphDeps, user: User): Promise<{ connection: Connection; reconnected: boolean }> {
  const integration = await enabledIntegration(deps, user)
  if (!integration.orgWide) throw new DomainError('conflict', 'the organisation-wide Microsoft 365 set-up is not enabled; an admin enables it under Admin → Integrations', { rule: 'integration-disabled' })
  const email = (user.email ?? '').toLowerCase()
  if (email === '') throw invalid('email', 'is needed: the organisation-wide set-up finds your mailbox by your address')
  const app = appOnly(deps, integration)
  try {
    await app.readCalendar(email)
  } catch (e) {
    if (e instanceof AuthFailed) throw new DomainError('forbidden', e.message, { rule: 'oauth-code' })
    throw new DomainError('forbidden', `Microsoft 365 did not open ${email}'s calendar to the app: ${(e as Error).message}`, { rule: 'oauth-code' })
  }
  const existing = await existingFor(deps, user, email)
  const access = app.kept.access
  const sealed = access === null ? undefined : { access_sealed: deps.secrets.seal(access.token), access_expires_at: new Date(access.expiresAt) }
  return saveConnection(deps.db, user, 'graph', email, 'delegation', null, existing, sealed)
}

export type GraphTestAnswer = { result: 'ok' | 'credentialsOnly' | 'refused'; mailbox: string; reason: string }

/**
 * Admin → Integrations, "Test connection": the app signs in with its own
 * secret or certificate (client credentials) and opens the admin's calendar.
 * Refused: the sign-in failed (the identity platform's reason). Credentials
 * only: signed in, but the calendar is not open to the app, which only the
 * organisation-wide set-up needs. Nothing is stored.
 */
export async function testGraphApp (deps: GraphDeps, integration: GraphIntegration, mailbox: string): Promise<GraphTestAnswer> {
  if (integration.clientId === '' || (integration.clientSecret === '' && integration.certificate === null)) {
    return { result: 'refused', mailbox, reason: 'the client id and a secret or certificate are needed' }
  }
  const app = appOnly(deps, integration)
  try {
    await app.tokens(false)
  } catch (e) {
    return { result: 'refused', mailbox, reason: (e as Error).message }
  }
  try {
    await app.readCalendar(mailbox)
    return { result: 'ok', mailbox, reason: '' }
  } catch (e) {
    return { result: 'credentialsOnly', mailbox, reason: (e as Error).message }
  }
}
