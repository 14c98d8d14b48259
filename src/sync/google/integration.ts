import type { SecretBox } from '../../auth/secrets.ts'
import type { Db } from '../../db/connect.ts'
import { invalid } from '../../domain/errors.ts'
import { storeIntegration } from '../integrations.ts'
import { syncDb } from '../tables.ts'
import type { ServiceAccount } from './client.ts'

/**
 * What an admin enables for the organisation: the OAuth client (id, secret,
 * application name), the public address Google posts push notifications to,
 * and optionally a Workspace service account with domain-wide delegation.
 * Secrets are sealed at rest; the environment can supply a default client.
 */
export type GoogleIntegration = {
  enabled: boolean
  clientId: string
  clientSecret: string
  applicationName: string
  /** public https base address Google can reach; push is off without it */
  pushAddress: string | null
  serviceAccount: ServiceAccount | null
  /** Workspace domain the service account may act in */
  delegationDomain: string | null
  /**
   * The Workspace admin also granted the service account the contacts scope
   * (https://www.googleapis.com/auth/contacts): delegated connections may push
   * contacts. Off, their tokens ask for calendars and tasks only, since a scope
   * the admin did not grant would fail the whole token request.
   */
  delegateContacts: boolean
}

export type GoogleIntegrationInput = Partial<Omit<GoogleIntegration, 'serviceAccount'>> & { serviceAccountJson?: string | null }

type Sealed = { clientSecret?: string; serviceAccount?: ServiceAccount | null }

/** Server-wide defaults from the configuration, used where an organisation set nothing. */
export type GoogleDefaults = { clientId: string | null; clientSecret: string | null; pushAddress: string | null }

const NO_DEFAULTS: GoogleDefaults = { clientId: null, clientSecret: null, pushAddress: null }

export async function loadGoogleIntegration (db: Db, secrets: SecretBox, orgId: number, defaults: GoogleDefaults = NO_DEFAULTS): Promise<GoogleIntegration | null> {
  const row = await syncDb(db).selectFrom('integrations').selectAll().where('org_id', '=', orgId).where('provider', '=', 'google').executeTakeFirst()
  const s = (row?.settings ?? {}) as Record<string, string | null>
  const sealed: Sealed = row?.secret_sealed == null ? {} : JSON.parse(secrets.open(row.secret_sealed)) as Sealed
  // an empty stored value falls back to the server's default rather than hiding it
  const clientId = s.clientId || defaults.clientId || ''
  const clientSecret = sealed.clientSecret || defaults.clientSecret || ''
  if (row === undefined && clientId === '') return null
  return {
    enabled: row?.enabled ?? true,
    clientId,
    clientSecret,
    applicationName: s.applicationName ?? 'Kalends',
    pushAddress: s.pushAddress ?? defaults.pushAddress ?? null,
    serviceAccount: sealed.serviceAccount ?? null,
    delegationDomain: s.delegationDomain ?? null,
    delegateContacts: (s as Record<string, unknown>).delegateContacts === true
  }
}

function parseServiceAccount (json: string): ServiceAccount {
  let key: { client_email?: unknown; private_key?: unknown }
  try {
    key = JSON.parse(json) as typeof key
  } catch {
    throw invalid('serviceAccountJson', 'is not JSON: paste the key file Google Cloud gives for the service account')
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string' || !key.private_key.includes('PRIVATE KEY')) {
    throw invalid('serviceAccountJson', 'needs client_email and private_key, as in the key file Google Cloud gives')
  }
  return { clientEmail: key.client_email, privateKey: key.private_key }
}

export async function saveGoogleIntegration (db: Db, secrets: SecretBox, orgId: number, input: GoogleIntegrationInput): Promise<GoogleIntegration> {
  const current = await loadGoogleIntegration(db, secrets, orgId)
  const next: GoogleIntegration = {
    enabled: input.enabled ?? current?.enabled ?? true,
    clientId: (input.clientId ?? current?.clientId ?? '').trim(),
    // an empty secret field keeps the stored one: the form never shows it back
    clientSecret: input.clientSecret === undefined || input.clientSecret === '' ? (current?.clientSecret ?? '') : input.clientSecret.trim(),
    applicationName: (input.applicationName ?? current?.applicationName ?? 'Kalends').trim() || 'Kalends',
    pushAddress: input.pushAddress === undefined ? (current?.pushAddress ?? null) : (input.pushAddress?.trim() || null),
    serviceAccount: input.serviceAccountJson === undefined || input.serviceAccountJson === '' ? (current?.serviceAccount ?? null) : input.serviceAccountJson === null ? null : parseServiceAccount(input.serviceAccountJson),
    delegationDomain: input.delegationDomain === undefined ? (current?.delegationDomain ?? null) : (input.delegationDomain?.trim().toLowerCase() || null),
    delegateContacts: input.delegateContacts ?? current?.delegateContacts ?? false
  }
  if (next.pushAddress !== null && !/^https?:\/\/[^\s]+$/.test(next.pushAddress)) throw invalid('pushAddress', 'must be the public https:// address of this server')
  if (next.clientId.length > 300) throw invalid('clientId', 'is too long')
  const settings = JSON.stringify({ clientId: next.clientId, applicationName: next.applicationName, pushAddress: next.pushAddress, delegationDomain: next.delegationDomain, delegateContacts: next.delegateContacts })
  const sealed = secrets.seal(JSON.stringify({ clientSecret: next.clientSecret, serviceAccount: next.serviceAccount }))
  await storeIntegration(db, orgId, 'google', { enabled: next.enabled, settings, secret_sealed: sealed })
  if (next.delegateContacts !== (current?.delegateContacts ?? false)) {
    // kept access tokens carry the old scopes: delegated connections get a new one on their next run
    await syncDb(db).updateTable('sync_connections').set({ access_sealed: null, access_expires_at: null })
      .where('auth_kind', '=', 'delegation').where('user_id', 'in', eb => eb.selectFrom('users').select('id').where('org_id', '=', orgId)).execute()
  }
  return next
}
