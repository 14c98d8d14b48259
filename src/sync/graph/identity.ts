import { ConfidentialClientApplication, LogLevel, type AccountInfo, type Configuration } from '@azure/msal-node'
import { AuthFailed, Transient, type ProviderContext } from '../provider.ts'
import { networkModule, type GraphEndpoints } from './client.ts'
import type { GraphIntegration } from './integration.ts'

/**
 * The Microsoft identity platform v2.0 through MSAL Node, Microsoft's own
 * maintained library (PKCE, refresh-token rotation in its token cache,
 * client credentials, AADSTS errors parsed): a per-user delegated connection
 * keeps MSAL's serialized token cache (its refresh token inside) sealed as
 * the connection's credentials, and stores it again whenever MSAL rotated
 * the refresh token; an organisation-wide connection gets app-only tokens
 * with the client credentials grant.
 */

const GRAPH = 'https://graph.microsoft.com'
/** Delegated permissions (permissions-reference.md); MSAL adds openid, profile and offline_access itself. */
export const DELEGATED_SCOPES = [`${GRAPH}/Calendars.ReadWrite`, `${GRAPH}/Tasks.ReadWrite`, 'offline_access']
/** client_credentials takes only `<resource>/.default`: the application permissions an admin granted (v2-oauth2-client-creds-grant-flow.md). */
export const APP_SCOPES = [`${GRAPH}/.default`]

/** A kept access token is used until this long before it expires. */
const ACCESS_MARGIN_MS = 5 * 60_000

/** The organisation's app in MSAL, for a tenant (an id or domain; "organizations" for any work account). */
export function msalApp (ep: GraphEndpoints, integration: GraphIntegration, tenant = integration.tenant || 'organizations'): ConfidentialClientApplication {
  const host = new URL(ep.authorityHost).host
  const cert = integration.certificate
  const config: Configuration = {
    auth: {
      clientId: integration.clientId,
      authority: `${ep.authorityHost}/${tenant}`,
      ...(cert === null ? { clientSecret: integration.clientSecret } : { clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.privateKey } }),
      // another host than Microsoft's (the emulator, a sovereign cloud) is trusted as configured, without instance discovery
      ...(host === 'login.microsoftonline.com' ? {} : { knownAuthorities: [host] })
    },
    system: { networkClient: networkModule(ep), loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} } }
  }
  return new ConfidentialClientApplication(config)
}

type MsalFailure = { errorCode?: string; errorMessage?: string; subError?: string; errorNo?: string | number; message?: string }

/** The AADSTS number of an MSAL error (error_codes[0], or the "AADSTSnnnn:" in its message). */
export function aadstsOf (e: unknown): number | null {
  const err = e as MsalFailure
  if (err.errorNo !== undefined && Number.isFinite(Number(err.errorNo))) return Number(err.errorNo)
  const m = /AADSTS(\d+)/.exec(`${err.errorMessage ?? ''} ${err.message ?? ''}`)
  return m === null ? null : Number(m[1])
}

/**
 * The identity platform's refusals as the reason a red connection shows
 * (reference-error-codes.md), or null when the failure is not the
 * account's (network, Microsoft busy): then the run is retried.
 */
export function readableReason (e: unknown): string | null {
  const code = aadstsOf(e)
  const err = e as MsalFailure
  const tag = code === null ? '' : ` (AADSTS${code})`
  switch (code) {
    case 65001: return `the consent to Kalends was revoked in Microsoft 365${tag}; reconnect the account`
    case 50173: case 50133: return `the Microsoft 365 password was changed or reset, so the earlier sign-in no longer counts${tag}; reconnect the account`
    case 700082: case 70043: case 700084: return `the Microsoft 365 sign-in expired after long inactivity${tag}; reconnect the account`
    case 65004: return `access to Microsoft 365 was declined on the consent screen${tag}`
    case 90094: case 90095: case 900941: return `an administrator of the Microsoft 365 organisation must approve Kalends first${tag}`
    case 50057: return `the Microsoft 365 account is disabled${tag}`
    case 50076: case 50079: case 50158: return `Microsoft 365 asks for another sign-in step (multi-factor or a policy)${tag}; reconnect the account`
    case 53003: return `a conditional-access policy of the Microsoft 365 organisation blocks Kalends${tag}`
    case 7000215: case 7000222: case 7000218: return `the client secret of the Microsoft 365 app is wrong or expired${tag}; an admin renews it under Admin → Integrations`
    // certificate sign-in (certificate-credentials.md; the codes as the service answers them, conformance/graph-emulator/assertion.ts)
    case 700027: return `Microsoft 365 refused the app's certificate: it is not one uploaded to the app in Azure, or its private key is not the certificate's${tag}; an admin uploads it in Azure or pastes the right one under Admin → Integrations`
    case 1000502: return `the certificate of the Microsoft 365 app has expired (or is not valid yet)${tag}; an admin uploads a new one in Azure and pastes it under Admin → Integrations`
    case 700024: return `Microsoft 365 found the app's signed sign-in outside its valid time${tag}; check this server's clock`
    case 700021: case 700023: return `Microsoft 365 refused the app's signed sign-in for another app or tenant${tag}; an admin checks the tenant and client id under Admin → Integrations`
    case 700016: return `the Microsoft 365 app (client id) is not known in this organisation${tag}; an admin checks Admin → Integrations`
    case 50059: case 90002: return `the Microsoft 365 tenant is not known${tag}; an admin checks Admin → Integrations`
    case 1002012: case 70011: return `Microsoft 365 refused the permissions asked for${tag}`
    case 500011: case 650057: return `the Microsoft 365 app lacks its Graph permissions${tag}; an admin grants them in Azure`
  }
  if (err.errorCode === 'invalid_grant' || err.errorCode === 'interaction_required' || err.errorCode === 'consent_required') return `Microsoft 365 no longer accepts the sign-in (${err.errorCode}${tag}); reconnect the account`
  if (err.errorCode === 'invalid_client' || err.errorCode === 'unauthorized_client') return `Microsoft 365 refused the app's credentials (${err.errorCode}${tag}); an admin checks Admin → Integrations`
  if (err.errorCode === 'no_tokens_found' || err.errorCode === 'no_account_in_silent_request') return 'no Microsoft 365 sign-in stored; reconnect the account'
  return null
}

/** An MSAL failure as the engine's error: AuthFailed with a reason, or Transient. */
export function identityError (e: unknown, what: string): Error {
  const reason = readableReason(e)
  if (reason !== null) return new AuthFailed(reason)
  return new Transient(`Microsoft sign-in failed while ${what}: ${(e as MsalFailure).errorMessage ?? (e as Error).message}`)
}

/**
 * Delegated tokens from the connection's sealed MSAL cache. A renewal
 * (expired, or Graph refused it) goes through MSAL's refresh; whenever the
 * cache changed (a rotated refresh token, a new access token) it is sealed
 * again, before the call that needed it goes on.
 */
export function delegatedTokens (ep: GraphEndpoints, integration: GraphIntegration, ctx: ProviderContext): (renew: boolean) => Promise<string> {
  let app: ConfidentialClientApplication | null = null
  let account: AccountInfo | null = null
  return async renew => {
    if (ctx.credentials === null) throw new AuthFailed('no Microsoft 365 sign-in stored; reconnect the account')
    if (app === null) {
      app = msalApp(ep, integration)
      try {
        await app.getTokenCache().deserialize(ctx.credentials)
      } catch {
        throw new AuthFailed('the stored Microsoft 365 sign-in cannot be read; reconnect the account')
      }
      account = (await app.getTokenCache().getAllAccounts())[0] ?? null
      if (account === null) throw new AuthFailed('no Microsoft 365 sign-in stored; reconnect the account')
    }
    let token: string
    try {
      const result = await app.acquireTokenSilent({ account: account as AccountInfo, scopes: DELEGATED_SCOPES, forceRefresh: renew })
      token = result.accessToken
    } catch (e) {
      throw identityError(e, 'renewing the access')
    }
    const cache = app.getTokenCache().serialize()
    if (cache !== ctx.credentials) await ctx.saveCredentials(cache)
    return token
  }
}

/** App-only tokens (client credentials), kept sealed in the connection while they live so runs within the hour ask for none. */
export function appTokens (ep: GraphEndpoints, integration: GraphIntegration, ctx: ProviderContext): (renew: boolean) => Promise<string> {
  return async renew => {
    if (!renew && ctx.access !== null && ctx.access.expiresAt - Date.now() > ACCESS_MARGIN_MS) return ctx.access.token
    if (integration.tenant === '' || integration.tenant === 'common' || integration.tenant === 'organizations') {
      throw new AuthFailed('the organisation-wide Microsoft 365 set-up needs the tenant (id or domain) under Admin → Integrations')
    }
    let result
    try {
      result = await msalApp(ep, integration).acquireTokenByClientCredential({ scopes: APP_SCOPES, skipCache: true })
    } catch (e) {
      throw identityError(e, 'getting an app-only token')
    }
    if (result === null) throw new Transient('Microsoft sign-in gave no app-only token')
    await ctx.saveAccess({ token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 3_600_000 })
    return result.accessToken
  }
}
