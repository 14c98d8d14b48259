import type { SecretBox } from '../../auth/secrets.ts'
import type { Db } from '../../db/connect.ts'
import { invalid } from '../../domain/errors.ts'
import { syncDb } from '../tables.ts'
import { EWS_VERSIONS, type EwsVersion } from './client.ts'

/**
 * What an admin sets up for the organisation's Exchange Server: the EWS URL,
 * the schema version to speak, how to authenticate, and optionally a service
 * account holding the ApplicationImpersonation role, which then syncs every
 * user's mailbox without asking them for a password
 * (exchange-web-services/impersonation-and-ews-in-exchange.md). The service
 * account's password is sealed at rest.
 */
export const EWS_AUTH = ['basic', 'ntlm', 'bearer'] as const
export type EwsAuthKind = typeof EWS_AUTH[number]

/** 'user': each user connects with their own login; 'service': the service account connects every user's mailbox */
export const EXCHANGE_MODES = ['user', 'service'] as const
export type ExchangeMode = typeof EXCHANGE_MODES[number]

export type ServiceLogin = { username: string; password: string }

export type ExchangeIntegration = {
  enabled: boolean
  ewsUrl: string
  version: EwsVersion
  auth: EwsAuthKind
  mode: ExchangeMode
  serviceAccount: ServiceLogin | null
}

export type ExchangeIntegrationInput = Partial<Omit<ExchangeIntegration, 'serviceAccount'>> & { serviceUsername?: string | null; servicePassword?: string }

export async function loadExchangeIntegration (db: Db, secrets: SecretBox, orgId: number): Promise<ExchangeIntegration | null> {
  const row = await syncDb(db).selectFrom('integrations').selectAll().where('org_id', '=', orgId).where('provider', '=', 'exchange').executeTakeFirst()
  if (row === undefined) return null
  const s = row.settings as Record<string, string | null>
  const sealed = row.secret_sealed == null ? {} : JSON.parse(secrets.open(row.secret_sealed)) as { servicePassword?: string }
  return {
    enabled: row.enabled,
    ewsUrl: s.ewsUrl ?? '',
    version: (EWS_VERSIONS as readonly string[]).includes(s.version ?? '') ? s.version as EwsVersion : 'Exchange2013_SP1',
    auth: (EWS_AUTH as readonly string[]).includes(s.auth ?? '') ? s.auth as EwsAuthKind : 'basic',
    mode: s.mode === 'user' || s.mode === 'service' ? s.mode : s.serviceUsername == null ? 'user' : 'service',
    serviceAccount: s.serviceUsername == null || sealed.servicePassword === undefined ? null : { username: s.serviceUsername, password: sealed.servicePassword }
  }
}

/** The settings `input` makes of `current`, checked; nothing is stored (a connection test tries a draft before it is saved). */
export function mergeExchangeIntegration (current: ExchangeIntegration | null, input: ExchangeIntegrationInput): ExchangeIntegration {
  const username = input.serviceUsername === undefined ? (current?.serviceAccount?.username ?? null) : (input.serviceUsername?.trim() || null)
  // an empty password field keeps the stored one: the form never shows it back
  const password = input.servicePassword === undefined || input.servicePassword === '' ? (current?.serviceAccount?.password ?? null) : input.servicePassword
  const serviceAccount = username === null || password === null ? null : { username, password }
  const next: ExchangeIntegration = {
    enabled: input.enabled ?? current?.enabled ?? true,
    ewsUrl: (input.ewsUrl ?? current?.ewsUrl ?? '').trim(),
    version: input.version ?? current?.version ?? 'Exchange2013_SP1',
    auth: input.auth ?? current?.auth ?? 'basic',
    mode: input.mode ?? (input.serviceUsername === undefined ? current?.mode : undefined) ?? (serviceAccount === null ? 'user' : 'service'),
    serviceAccount
  }
  // empty: each mailbox's address is found by Autodiscover from its e-mail address (provider.ts, ewsUrlFor)
  if (next.ewsUrl !== '' && !/^https?:\/\/[^\s]+$/i.test(next.ewsUrl)) throw invalid('ewsUrl', 'must be the server\'s EWS address, such as https://mail.example.com/EWS/Exchange.asmx, or empty to find each mailbox\'s with Autodiscover')
  if (!EWS_VERSIONS.includes(next.version)) throw invalid('version', `must be one of ${EWS_VERSIONS.join(', ')}`)
  if (!EWS_AUTH.includes(next.auth)) throw invalid('auth', `must be one of ${EWS_AUTH.join(', ')}`)
  if (!EXCHANGE_MODES.includes(next.mode)) throw invalid('mode', `must be one of ${EXCHANGE_MODES.join(', ')}`)
  if (next.mode === 'service' && username === null) throw invalid('serviceUsername', 'is required when one service account connects every mailbox')
  if (next.mode === 'service' && password === null) throw invalid('servicePassword', 'is required when one service account connects every mailbox')
  return next
}

export async function saveExchangeIntegration (db: Db, secrets: SecretBox, orgId: number, input: ExchangeIntegrationInput): Promise<ExchangeIntegration> {
  const next = mergeExchangeIntegration(await loadExchangeIntegration(db, secrets, orgId), input)
  const settings = JSON.stringify({ ewsUrl: next.ewsUrl, version: next.version, auth: next.auth, mode: next.mode, serviceUsername: next.serviceAccount?.username ?? null })
  const sealed = next.serviceAccount === null ? null : secrets.seal(JSON.stringify({ servicePassword: next.serviceAccount.password }))
  await syncDb(db).insertInto('integrations').values({ org_id: orgId, provider: 'exchange', enabled: next.enabled, settings, secret_sealed: sealed, updated_at: new Date() })
    .onConflict(oc => oc.columns(['org_id', 'provider']).doUpdateSet({ enabled: next.enabled, settings, secret_sealed: sealed, updated_at: new Date() }))
    .execute()
  return next
}
